"""A real TCP ESC/POS printer on 127.0.0.1 for tests (a pytest plugin module).

It listens on an ephemeral port, records every byte of every connection (one
connection = one job), answers ``DLE EOT 1/2/3/4`` like an Epson printer (anywhere in
the stream, as real firmware does), and misbehaves on demand through ``mode``:

- ``ok``: online, paper fine.
- ``refuse``: the listening socket is closed, so connections are refused.
- ``hang``: connections are accepted, never read, never answered.
- ``paper_out`` / ``paper_near_end``: status bytes say so (jobs are still recorded).
- ``drop``: the connection is reset after ``drop_after`` bytes of a job.

Use the ``escpos_sink`` fixture; ``sink.target`` is "127.0.0.1:port" and
``sink.wait_job()`` returns the next finished print job.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import pytest

Mode = Literal["ok", "refuse", "hang", "paper_out", "paper_near_end", "drop"]
MODES: tuple[str, ...] = ("ok", "refuse", "hang", "paper_out", "paper_near_end", "drop")

DLE_EOT = b"\x10\x04"

# Epson replies: fixed bits 1 and 4 set (0x12). n=1 bit 3 offline; n=2 bit 5 stopped
# by paper end; n=4 bits 2-3 near end, bits 5-6 paper end.
_REPLIES: dict[str, dict[int, int]] = {
    "ok": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_near_end": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E},
}


@dataclass
class Job:
    """Everything one connection sent."""

    number: int
    data: bytearray = field(default_factory=bytearray)
    done: bool = False
    dropped: bool = False
    answered: int = 0

    @property
    def payload(self) -> bytes:
        """The data without trailing status queries (a sender's post-job check)."""
        out = bytes(self.data)
        while len(out) >= 3 and out[-3:-1] == DLE_EOT and out[-1] in (1, 2, 3, 4):
            out = out[:-3]
        return out

    @property
    def status_only(self) -> bool:
        return len(self.payload) == 0


class EscposSink:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.drop_after = 1024
        self._mode: str = "ok"
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._jobs: list[Job] = []
        self._handed: set[int] = set()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> EscposSink:
        self._listen()
        acceptor = threading.Thread(target=self._accept_loop, name="escpos-sink-accept", daemon=True)
        acceptor.start()
        self._threads.append(acceptor)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._close_listener()
        with self._cond:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # A small receive buffer (inherited by accepted sockets) makes a "hang" printer
        # push back on the sender soon, as a real one with a full buffer does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind((self.host, self.port))
        sock.listen(8)
        sock.settimeout(0.05)
        self.port = sock.getsockname()[1]
        self._listener = sock

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # close() alone does not stop a listen socket that another thread is
            # blocked on in accept(): shutdown() does, at once (Linux).
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    # -- configuration ---------------------------------------------------------
    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        self.set_mode(mode)

    def set_mode(self, mode: str, *, drop_after: int | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if drop_after is not None:
            self.drop_after = drop_after
        previous, self._mode = self._mode, mode
        if mode == "refuse" and previous != "refuse":
            self._close_listener()
        elif previous == "refuse" and mode != "refuse":
            self._listen()  # same port again (SO_REUSEADDR)

    # -- results ---------------------------------------------------------------
    @property
    def jobs(self) -> list[Job]:
        with self._cond:
            return list(self._jobs)

    def print_jobs(self) -> list[Job]:
        """Finished connections that carried more than status queries."""
        return [job for job in self.jobs if job.done and not job.status_only]

    def wait_job(self, timeout: float = 5.0, *, include_status: bool = False) -> Job:
        """The next finished job not returned before (status-only ones skipped)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for job in self._jobs:
                    if job.done and job.number not in self._handed and (include_status or not job.status_only):
                        self._handed.add(job.number)
                        return job
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no finished job within {timeout} s ({len(self._jobs)} connections)")
                self._cond.wait(left)

    # -- server ----------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            if self._mode == "refuse":  # raced with set_mode("refuse")
                conn.close()
                continue
            conn.settimeout(0.05)
            with self._cond:
                job = Job(number=len(self._jobs))
                self._jobs.append(job)
                self._conns.append(conn)
            worker = threading.Thread(target=self._serve, args=(conn, job), daemon=True,
                                      name=f"escpos-sink-job-{job.number}")
            worker.start()
            self._threads.append(worker)

    def _serve(self, conn: socket.socket, job: Job) -> None:
        # stop() may close ``conn`` under us at any point: OSError ends the job.
        if self._mode == "hang":
            self._stop.wait()  # hold the connection open, read nothing, answer nothing
            self._finish(job, conn)
            return
        tail = b""
        try:
            while not self._stop.is_set():
                limit = 65536
                if self._mode == "drop":
                    limit = self.drop_after - len(job.data)
                    if limit <= 0:
                        job.dropped = True
                        # RST, not FIN: like a printer that reboots mid-job.
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        break
                try:
                    chunk = conn.recv(min(limit, 65536))
                except TimeoutError:
                    continue
                if not chunk:
                    break
                with self._cond:
                    job.data += chunk
                tail = self._answer(conn, job, tail + chunk)
        except OSError:
            pass
        self._finish(job, conn)

    def _answer(self, conn: socket.socket, job: Job, buf: bytes) -> bytes:
        """Reply to every DLE EOT n in ``buf``; return the bytes that may start one."""
        replies = _REPLIES.get(self._mode, _REPLIES["ok"])
        i = buf.find(DLE_EOT)
        while i != -1 and i + 2 < len(buf):
            n = buf[i + 2]
            if n in replies:
                conn.sendall(bytes((replies[n],)))
                job.answered += 1
            i = buf.find(DLE_EOT, i + 1)
        return buf[-2:]

    def _finish(self, job: Job, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.close()
        with self._cond:
            job.done = True
            if conn in self._conns:
                self._conns.remove(conn)
            self._cond.notify_all()


@pytest.fixture
def escpos_sink() -> Iterator[EscposSink]:
    """A started sink in mode "ok"; stopped after the test."""
    sink = EscposSink().start()
    try:
        yield sink
    finally:
        sink.stop()
