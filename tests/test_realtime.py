"""Socket.IO on /display against a real `motcua serve` child process, with real
python-socketio clients keeping their state with the agent's `QueueState`."""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio

from display.agent.state import Outcome, QueueState
from motcua.db import Database
from tests.support.engine import Driver as EngineDriver
from tests.support.env import TWO_OFFICES
from tests.support.live import LiveServer
from tests.support.realtime import call_next, comparable, issue, server_snapshot
from tests.support.waiting import wait_until

NS = "/display"


class Listener:
    """A display as the server sees it: a socketio.Client that applies snapshot and changes
    with the sequence rules, asks for a snapshot on a gap, and announces each call once."""

    def __init__(self, name: str = "display") -> None:
        self.name = name
        self.state = QueueState()
        self.changes: list[dict] = []  # every change message received, applied or not
        self.snapshots: list[dict] = []
        self.announced: list[dict] = []
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5, randomization_factor=0.2)
        self.sio.on("snapshot", self._snapshot, namespace=NS)
        self.sio.on("change", self._change, namespace=NS)

    def _snapshot(self, snap: dict) -> None:
        with self.lock:
            self.snapshots.append(snap)
            self.announced += self.state.apply_snapshot(snap).announce

    def _change(self, change: dict) -> None:
        with self.lock:
            self.changes.append(change)
            result = self.state.apply_change(change)
            self.outcomes.append(result.outcome)
            self.announced += result.announce
        if result.outcome is Outcome.gap:
            self.sio.emit("snapshot", namespace=NS)

    def connect(self, url: str, token: str, **extra) -> Listener:
        self.sio.connect(url, auth={"token": token, **extra}, namespaces=[NS], transports=["websocket"], wait_timeout=5)
        wait_until(lambda: self.state.ready, what=f"{self.name}'s first snapshot")
        return self

    def close(self) -> None:
        # `motcua serve` (werkzeug) never answers the websocket closing handshake, and
        # websocket-client waits 3 s for it: do not wait, the test is over.
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            ws.close = functools.partial(ws.close, timeout=0.1)
        self.sio.disconnect()

    def announced_ids(self) -> list[int]:
        with self.lock:
            return [c["id"] for c in self.announced]


@pytest.fixture
def listeners():
    made: list[Listener] = []

    def make(name: str = "display") -> Listener:
        made.append(Listener(name))
        return made[-1]

    yield make
    # websocket-client waits up to 3 s for the server's close frame: close them side by side.
    closers = [threading.Thread(target=listener.close) for listener in made]
    for t in closers:
        t.start()
    for t in closers:
        t.join(10)


# ---- tests ---------------------------------------------------------------------------


def test_a_call_reaches_two_displays_and_the_counter_display(live_server: LiveServer, listeners) -> None:
    demo = live_server.demo
    hall_a = listeners("hall A").connect(live_server.url, demo.devices["Màn hình sảnh"])
    hall_b = listeners("hall B").connect(live_server.url, demo.devices["Màn hình sảnh"])
    board = listeners("counter 1").connect(live_server.url, demo.devices["Màn hình quầy 1"])

    ticket = issue(live_server, demo)
    called = call_next(live_server, demo, 1)
    assert called["ticket"]["code"] == ticket["code"]

    for listener in (hall_a, hall_b, board):
        wait_until(lambda listener=listener: listener.announced, what=f"the call on {listener.name}")
        (call,) = listener.announced
        assert (call["code"], call["counter"], call["kind"]) == (ticket["code"], 1, "called")
        assert listener.state.recent_calls[0]["id"] == call["id"]
        assert listener.state.counter(1)["ticket"]["code"] == ticket["code"]
        assert Outcome.gap not in listener.outcomes
    # The three saw the same call id, with the same sequence number as the server.
    assert len({lst.announced[0]["id"] for lst in (hall_a, hall_b, board)}) == 1
    seq = server_snapshot(live_server, demo)["seq"]
    wait_until(lambda: all(lst.state.seq == seq for lst in (hall_a, hall_b, board)), what="every display at the server's seq")


def test_a_bad_token_is_refused_at_connect(live_server: LiveServer) -> None:
    def attempt(auth: dict) -> tuple[list, list, bool]:
        sio = socketio.Client(reconnection=False)
        got: list = []
        refused: list = []
        sio.on("snapshot", got.append, namespace=NS)
        sio.on("connect_error", refused.append, namespace=NS)
        # (python-socketio sometimes misses the refusal and waits out `wait_timeout`: keep it short.)
        with pytest.raises(socketio.exceptions.ConnectionError, match="failed to connect"):
            sio.connect(live_server.url, auth=auth, namespaces=[NS], transports=["websocket"], wait_timeout=1)
        return got, refused, sio.connected

    revoked = live_server.demo.devices["Màn hình sảnh"][:-2] + "xx"
    cases = [{"token": "dev_not-a-real-token"}, {"token": revoked}, {"token": "usr_nope"}, {}]
    with ThreadPoolExecutor(len(cases)) as pool:  # each refused client takes seconds to close
        results = list(pool.map(attempt, cases))
    for got, refused, connected in results:
        assert refused and "rejected" in refused[0]["message"]
        assert not connected and got == []


def test_after_a_restart_the_reconnected_state_equals_the_server_snapshot(live_server: LiveServer, listeners) -> None:
    demo = live_server.demo
    display = listeners().connect(live_server.url, demo.devices["Màn hình sảnh"])
    first = issue(live_server, demo)
    issue(live_server, demo, "CT")
    call_next(live_server, demo, 1)
    wait_until(lambda: len(display.announced) == 1, what="the first call")
    snapshots_before = len(display.snapshots)

    live_server.stop()
    # While the server is down the office moves on (as another process of a cluster would):
    # the display must catch up with all of it, not just resume where it was.
    db = Database(live_server.env["DATABASE_URL"])
    try:
        engine = EngineDriver(db)
        engine.issue("HT")
        engine.act(1, "start")
        engine.act(1, "finish")
        moved = engine.next(2)
    finally:
        db.dispose()
    live_server.start()

    wait_until(lambda: len(display.snapshots) > snapshots_before and display.sio.connected, timeout=15, what="the reconnect snapshot")
    truth = server_snapshot(live_server, demo)
    with display.lock:
        assert comparable(display.state.snapshot) == comparable(truth)
    assert display.state.counter(2)["ticket"]["code"] == moved.code
    assert display.state.counter(1)["ticket"] is None
    # The call made while it was away is fresh, so it is announced; the one before is not again.
    assert display.announced_ids() == [truth["recent_calls"][1]["id"], truth["recent_calls"][0]["id"]]
    assert display.announced[0]["code"] == first["code"]

    # And it keeps following live changes after the restart.
    call_next(live_server, demo, 1)
    truth = server_snapshot(live_server, demo)
    wait_until(lambda: display.state.seq == truth["seq"], what="the change after the restart")
    with display.lock:
        assert comparable(display.state.snapshot)["recent_calls"] == truth["recent_calls"]
        assert display.state.counters == truth["counters"]


def test_a_replayed_call_is_not_announced_twice(live_server: LiveServer, listeners) -> None:
    demo = live_server.demo
    display = listeners().connect(live_server.url, demo.devices["Màn hình sảnh"])
    issue(live_server, demo)
    call_next(live_server, demo, 1)
    wait_until(lambda: len(display.announced) == 1, what="the call")
    call_id = display.announced[0]["id"]

    # The server replays the call in a new snapshot (what a reconnect or a gap brings)...
    n = len(display.snapshots)
    display.sio.emit("snapshot", namespace=NS)
    wait_until(lambda: len(display.snapshots) == n + 1, what="the replayed snapshot")
    assert display.snapshots[-1]["recent_calls"][0]["id"] == call_id
    # ...and the same change arrives again (a duplicate delivery).
    change = next(c for c in display.changes if c.get("call"))
    display._change(change)
    assert display.outcomes[-1] is Outcome.duplicate

    # A recall is a new call id: it is announced, once.
    r = requests.post(f"{live_server.url}/api/v1/counters/1/recall", headers=demo.clerk(1).headers, timeout=10)
    assert r.status_code == 200, r.text
    wait_until(lambda: len(display.announced) == 2, what="the recall")
    assert display.announced[1]["kind"] == "recalled" and display.announced[1]["id"] != call_id
    assert display.announced_ids() == [call_id, display.announced[1]["id"]]


def test_a_display_of_one_office_never_receives_another_offices_calls(live_server_factory, listeners) -> None:
    server = live_server_factory(config=TWO_OFFICES)
    a, b = server.demos["phuong-a"], server.demos["xa-b"]
    display_a = listeners("A").connect(server.url, a.devices["Màn hình A"])
    display_b = listeners("B").connect(server.url, b.devices["Màn hình B"])
    assert display_a.snapshots[0]["office"]["code"] == "phuong-a"
    assert display_b.snapshots[0]["office"]["code"] == "xa-b"

    issue(server, b)
    call_next(server, b, 1)
    wait_until(lambda: len(display_b.announced) == 1, what="B's call on B's display")
    # Changes go out in commit order through one dispatcher, so once A's display has the
    # change made after B's call, anything of B's sent to it would have arrived before it.
    issued_a = issue(server, a)
    wait_until(lambda: display_a.changes, what="A's own change")
    assert [c["kind"] for c in display_a.changes] == ["ticket.issued"]
    assert display_a.changes[0]["ticket"]["id"] == issued_a["id"]
    assert display_a.announced == []
    assert display_b.state.seq == server_snapshot(server, b, "Màn hình B")["seq"]

    # A display token cannot ask for another office either.
    nosy = listeners("A asking for B").connect(server.url, a.devices["Màn hình A"], office="xa-b")
    assert nosy.snapshots[0]["office"]["code"] == "phuong-a"

    call_next(server, a, 1)
    wait_until(lambda: len(display_a.announced) == 1, what="A's call on A's display")
    assert display_a.announced[0]["code"] == issued_a["code"]
    assert len(display_b.announced) == 1
    assert display_a.state.seq == server_snapshot(server, a, "Màn hình A")["seq"]
    assert all(c["kind"] != "ticket.issued" or c["ticket"]["id"] == issued_a["id"] for c in display_a.changes)


@pytest.mark.slow
def test_under_prod_displays_get_calls_over_gevent_websocket(live_server_factory, listeners) -> None:
    """`motcua serve --prod` carries the displays' websockets through gevent-websocket (engineio's
    fast path under gevent), and that handler writes no line per request in the log."""
    server = live_server_factory(extra_env={"MOTCUA_PROD": "1", "MOTCUA_DAYEND": "off"})
    demo = server.demo
    halls = [listeners(f"hall {i}").connect(server.url, demo.devices["Màn hình sảnh"]) for i in range(2)]
    board = listeners("counter 1").connect(server.url, demo.devices["Màn hình quầy 1"])
    ticket = issue(server, demo)
    call_next(server, demo, 1)
    for listener in (*halls, board):
        wait_until(lambda listener=listener: listener.announced, what=f"the call on {listener.name}")
        assert [(c["code"], c["counter"]) for c in listener.announced] == [(ticket["code"], 1)]
        assert Outcome.gap not in listener.outcomes
    log = server.log.read_text(errors="replace")
    assert "gunicorn" in log and "/socket.io/" not in log and "/api/v1/tickets" not in log
