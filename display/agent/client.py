"""The display agent: a python-socketio client on /display that keeps a board in step.

It never trusts a stale screen: after a disconnect longer than `grace` seconds the board
says "MẤT KẾT NỐI"; after a reconnect the server's snapshot replaces the state, and a gap
in sequence numbers asks for a new snapshot. Each call id is announced once. A token revoked
or replaced while it runs (the server closes the socket and refuses it back) is a set-up
error, not an outage: the board says so and the agent stops (`refused` tells why).
"""

from __future__ import annotations

import logging
import queue
import shlex
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import requests
import socketio

from display.agent.board import announcement_text, board_lines
from display.agent.drivers import Driver
from display.agent.state import Outcome, QueueState

log = logging.getLogger(__name__)
NAMESPACE = "/display"


class TokenRefused(Exception):
    """The server does not know this device token (wrong, revoked, or another server)."""


REFUSED_FRAME = ["MÃ THIẾT BỊ SAI", "TOKEN REFUSED"]


class DisplayAgent:
    def __init__(
        self,
        server: str,
        token: str,
        driver: Driver,
        *,
        counter: int | None = None,
        grace: float = 3.0,
        play: str | None = None,
        transports: list[str] | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.driver = driver
        self.counter = counter
        self.grace = grace
        self.transports = transports or ["websocket"]
        self.state = QueueState()
        self.announced: list[dict] = []  # every call announced, in order (for logs and tests)
        self.connected = False
        self.refused: str | None = None  # why the server refused the token, once it did
        self._checking = threading.Lock()
        self._lock = threading.RLock()
        self._down_timer: threading.Timer | None = None
        self._shown_down = False
        self._last_frame: list[str] | None = None
        self._stop = threading.Event()
        self._player = AudioPlayer(self.server, token, play) if play else None
        self.sio = socketio.Client(
            reconnection=True, reconnection_delay=0.5, reconnection_delay_max=3, randomization_factor=0.5, handle_sigint=False
        )
        self.sio.on("connect", self._on_connect, namespace=NAMESPACE)
        self.sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        self.sio.on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        self.sio.on("snapshot", self._on_snapshot, namespace=NAMESPACE)
        self.sio.on("change", self._on_change, namespace=NAMESPACE)

    # -- life cycle ----------------------------------------------------------------------

    def check_token(self, timeout: float = 5) -> None:
        """Refuse early with a clear message; raises requests errors when unreachable."""
        r = requests.get(f"{self.server}/api/v1/queue", headers={"Authorization": f"Bearer {self.token}"}, timeout=timeout)
        if r.status_code in (401, 403):
            is_json = r.headers.get("content-type", "").startswith("application/json")
            raise TokenRefused(r.json().get("error", {}).get("message_en", r.text) if is_json else r.text)

    def start(self) -> None:
        """Connect (retrying until the server answers) and return; events run in threads."""
        self._render()
        auth: dict[str, Any] = {"token": self.token}
        if self.counter is not None:
            auth["counter"] = self.counter
        while not self._stop.is_set():
            try:
                self.sio.connect(self.server, auth=auth, namespaces=[NAMESPACE], transports=self.transports, wait_timeout=5)
                return
            except socketio.exceptions.ConnectionError as exc:
                log.warning("cannot connect to %s: %s; retrying", self.server, exc)
                self._went_down()
                self._stop.wait(2)

    def run(self) -> None:
        """Block until `stop()` (or Ctrl+C in the CLI), or until the server refuses the token."""
        self.start()
        self._stop.wait()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self._down_timer:
                self._down_timer.cancel()
        try:
            self.sio.disconnect()
        except Exception:
            log.debug("disconnect failed", exc_info=True)
        if self._player:
            self._player.stop()
        self.driver.close()

    # -- socket events -------------------------------------------------------------------

    def _on_connect(self) -> None:
        with self._lock:
            self.connected = True
            if self._down_timer:
                self._down_timer.cancel()
                self._down_timer = None
            self._shown_down = False
        log.info("connected to %s", self.server)
        # The board changes when the snapshot (sent right after connect) arrives.

    def _on_disconnect(self, *reason: Any) -> None:
        log.warning("disconnected from %s (%s)", self.server, reason[0] if reason else "")
        self._went_down()
        if reason and reason[0] == self.sio.reason.SERVER_DISCONNECT:
            # The server closed the socket (a revoked token, a deactivated device): socket.io
            # does not come back by itself. Find out why away from the socket's thread.
            threading.Thread(target=self._after_server_disconnect, name="token-check", daemon=True).start()

    def _on_connect_error(self, data: Any = None) -> None:
        log.warning("connection refused or failed: %s", data)
        self._went_down()
        threading.Thread(target=self._token_still_good, name="token-check", daemon=True).start()

    def _token_still_good(self) -> bool:
        """Ask the server about the token; on a refusal, stop. True unless it was refused."""
        if self._stop.is_set() or not self._checking.acquire(blocking=False):
            return not self.refused
        try:
            self.check_token()
        except TokenRefused as exc:
            self._refuse(str(exc))
            return False
        except requests.RequestException as exc:
            log.info("server unreachable while checking the token: %s", exc)
        finally:
            self._checking.release()
        return True

    def _after_server_disconnect(self) -> None:
        if self._token_still_good() and not self._stop.is_set():
            self.start()  # still welcome (e.g. the server shed the socket): connect again

    def _refuse(self, why: str) -> None:
        log.error("the server refused the device token: %s", why)
        with self._lock:
            self.refused = why or "token refused"
            if self._down_timer:
                self._down_timer.cancel()
                self._down_timer = None
            try:
                self.driver.show(REFUSED_FRAME)
                self._last_frame = REFUSED_FRAME
            except Exception:
                log.exception("the board did not take the frame")
        self._stop.set()  # run() returns; the caller stops the agent and exits non-zero

    def _went_down(self) -> None:
        with self._lock:
            self.connected = False
            if self._down_timer is None and not self._shown_down and not self._stop.is_set():
                self._down_timer = threading.Timer(self.grace, self._show_down)
                self._down_timer.daemon = True
                self._down_timer.start()

    def _show_down(self) -> None:
        with self._lock:
            self._down_timer = None
            if self.connected or self._stop.is_set() or self.refused:
                return
            self._shown_down = True
            self._render()

    def _on_snapshot(self, snap: dict) -> None:
        with self._lock:
            result = self.state.apply_snapshot(snap)
            self.connected = True
            self._shown_down = False
            self._render()
            self._announce(result.announce)

    def _on_change(self, change: dict) -> None:
        with self._lock:
            result = self.state.apply_change(change)
            if result.outcome is Outcome.gap:
                log.info("gap before seq %s (have %s): asking for a snapshot", change.get("seq"), self.state.seq)
                self.sio.emit("snapshot", namespace=NAMESPACE)
                return
            if result.outcome is Outcome.applied:
                self._render()
                self._announce(result.announce)

    # -- output --------------------------------------------------------------------------

    def _render(self) -> None:
        with self._lock:
            if self.refused:
                return  # the board keeps saying that the token was refused
            up = self.connected or not self._shown_down
            lines = board_lines(self.state, counter=self.counter, height=self.driver.height, connected=up)
            if lines == self._last_frame:
                return
            self._last_frame = lines
            try:
                self.driver.show(lines)
            except Exception:
                log.exception("the board did not take the frame")
                self._last_frame = None

    def _announce(self, calls: list[dict]) -> None:
        for call in calls:
            if self.counter is not None and call.get("counter") != self.counter:
                continue
            self.announced.append(call)
            try:
                self.driver.announce(call, announcement_text(call))
            except Exception:
                log.exception("announcement failed on the board")
            if self._player:
                self._player.enqueue(call)


class AudioPlayer:
    """Plays each call's announcement (fetched from the server) one at a time."""

    def __init__(self, server: str, token: str, command: str) -> None:
        self.server, self.token, self.command = server, token, shlex.split(command)
        self.queue: queue.Queue[dict | None] = queue.Queue()
        self.played: list[int] = []
        self.thread = threading.Thread(target=self._run, name="announcements", daemon=True)
        self.thread.start()

    def enqueue(self, call: dict) -> None:
        self.queue.put(call)

    def stop(self) -> None:
        self.queue.put(None)

    def _run(self) -> None:
        while (call := self.queue.get()) is not None:
            try:
                self._play(call)
            except Exception:
                log.exception("announcement %s failed", call.get("id"))

    def _play(self, call: dict) -> None:
        r = requests.get(f"{self.server}/display/audio/{int(call['id'])}.wav", headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        r.raise_for_status()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{int(call['id'])}.wav"
            path.write_bytes(r.content)
            args = [a.replace("{file}", str(path)) for a in self.command]
            if not any("{file}" in a for a in self.command):
                args.append(str(path))
            subprocess.run(args, check=True, timeout=60)  # waits: announcements never overlap
        self.played.append(int(call["id"]))
