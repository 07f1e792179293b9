"""Hall displays for the benchmarks (bench/fanout.py, bench/fanout_scale.py, bench/memory.py),
and the clerk's calls timed against them.

Each display is a minimal Engine.IO 4 / Socket.IO 5 client on a real TCP websocket: HTTP
upgrade (checked Sec-WebSocket-Accept), masked client frames, /display joined with a device
token, the server's pings answered, the `snapshot` the server sends on connect awaited, and
the `ticket.called` changes decoded (JSON) to note the ticket, the call id and the time of
receipt. It skips what a full python-socketio client also does (parse every message into
events, run a handler task per event), because the client processes share the machine's
cores with the server(s): the less CPU they take, the more the figures show the server and
not its clients. The tests in tests/ keep using the real python-socketio client.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import multiprocessing as mp
import os
import queue
import selectors
import time
from dataclasses import dataclass, field

from bench.server import percentile, post, raise_open_files

NS = "/display"
CONNECT_BATCH = 100
ROUND_TIMEOUT = 30.0
TICK_S = 0.002


WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
EVENT = f"42{NS},".encode()
REFUSED = f"44{NS},".encode()
SNAPSHOT = f'42{NS},["snapshot"'.encode()
CHANGE = f'42{NS},["change"'.encode()
CALLED = b'"ticket.called"'


def masked_text(text: str) -> bytes:
    """A client's text frame: RFC 6455 says every frame from a client is masked."""
    payload = text.encode()
    mask = os.urandom(4)
    n = len(payload)
    header = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    key = (mask * (n // 4 + 1))[:n]
    return header + mask + (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


PONG = masked_text("3")  # one masked "3" serves every pong (the mask only hides a client's data from proxies)


READ_BUFFER = memoryview(bytearray(256 * 1024))  # every display of a process reads into it in turn


class Display(asyncio.BufferedProtocol):
    """One display on one TCP connection: HTTP upgrade, then websocket frames parsed as they
    arrive (no task per message, and reads into one shared buffer: asyncio's plain protocols
    allocate 256 KB per read), so 1000 displays cost one client process little CPU."""

    def __init__(self, host: str, token: str, state: dict) -> None:
        self.host, self.token, self.state = host, token, state
        self.key = base64.b64encode(os.urandom(16))
        self.buf = bytearray()
        self.upgraded = self.live = False
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.transport = transport
        transport.write(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + self.host.encode() +
                        b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + self.key +
                        b"\r\nSec-WebSocket-Version: 13\r\n\r\n")

    def get_buffer(self, sizehint: int) -> memoryview:
        return READ_BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        self.buf += READ_BUFFER[:nbytes]
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[: end + 4]
            accept = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest()).decode()
            if not head.startswith("HTTP/1.1 101") or accept not in head:
                return self.fail("no websocket upgrade: " + head[:200])
            self.upgraded = True
        buf, pos = self.buf, 0
        while len(buf) - pos >= 2:
            opcode, n, start = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, pos + 2
            if n == 126:
                if len(buf) - pos < 4:
                    break
                n, start = int.from_bytes(buf[pos + 2 : pos + 4], "big"), pos + 4
            elif n == 127:
                if len(buf) - pos < 10:
                    break
                n, start = int.from_bytes(buf[pos + 2 : pos + 10], "big"), pos + 10
            if len(buf) - start < n:
                break
            if not buf[pos] & 0x80:
                return self.fail("fragmented frame")  # the servers here send whole messages
            self.message(opcode, buf[start : start + n])
            pos = start + n
        del buf[:pos]

    def message(self, opcode: int, data: bytearray) -> None:
        if opcode == 0x8:
            return self.fail("closed by the server")
        if opcode != 0x1:
            return  # (no pings at the websocket level: Engine.IO pings in its own packets)
        if data == b"2":
            self.transport.write(PONG)
        elif data[:1] == b"0":  # Engine.IO open: join the namespace with the device token
            self.transport.write(masked_text(f"40{NS}," + json.dumps({"token": self.token})))
        elif data.startswith(CHANGE):
            if CALLED in data:
                at = time.time()
                change = json.loads(data[len(EVENT) :])[1]
                self.state["on_call"](change["ticket"]["code"], change["call"]["id"], at)
        elif data.startswith(SNAPSHOT):
            if not self.live and not self.state["ready_sent"]:  # the server sends it on connect: this display is live
                self.state["ready"] += 1
                self.live = True
        elif data.startswith(REFUSED):
            self.fail("refused: " + data[:200].decode(errors="replace"))

    def fail(self, why: str) -> None:
        if not self.done.done():
            self.done.set_exception(RuntimeError(why))
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("connection closed"))


async def display(url: str, token: str, state: dict) -> None:
    """One display, until its connection ends (an error) or the task is cancelled."""
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    transport, proto = await asyncio.wait_for(loop.create_connection(lambda: Display(f"{host}:{port}", token, state), host, int(port)), 60)
    try:
        await proto.done
    finally:
        transport.close()


class TickSelector(selectors.DefaultSelector):  # type: ignore[misc, valid-type]
    """Waits for the sockets at most once per TICK_S. A client process that woke for every
    message would cost the server a wake-up on each send (loopback delivers it at once) and
    take CPU from it; real displays are other machines. Receipt times are taken after the
    wait, so they err late by at most one tick."""

    def __init__(self) -> None:
        super().__init__()
        self.next_poll = 0.0

    def select(self, timeout: float | None = None):
        if timeout != 0:  # (0: the loop has work already and only polls in passing)
            wait = self.next_poll - time.monotonic()
            if wait > 0:
                time.sleep(wait)
                timeout = None if timeout is None else max(0.0, timeout - wait)
        events = super().select(timeout)
        self.next_poll = time.monotonic() + TICK_S
        return events


def client_worker(urls: list[str], token: str, count: int, out: mp.Queue, stop: mp.Event) -> None:  # type: ignore[valid-type]
    raise_open_files()
    with asyncio.Runner(loop_factory=lambda: asyncio.SelectorEventLoop(TickSelector())) as runner:
        runner.run(_client_worker(urls, token, count, out, stop))


async def _client_worker(urls: list[str], token: str, count: int, out: mp.Queue, stop: mp.Event) -> None:  # type: ignore[valid-type]
    fresh: dict[tuple[str, int], list[float]] = {}  # receipts not yet reported, by (code, call id)
    errors: list[str] = []
    state = {"ready": 0, "ready_sent": False, "stop": False}

    def on_call(code: str, call_id: int, at: float) -> None:
        fresh.setdefault((code, call_id), []).append(at)

    async def report() -> None:
        """Receipts go to the measuring process in small batches (times were taken on arrival)."""
        while not state["stop"]:
            await asyncio.sleep(0.02)
            for key in list(fresh):
                out.put(("recv", key[0], key[1], fresh.pop(key)))

    state["on_call"] = on_call
    tasks = []

    async def run(i: int) -> None:
        try:
            await display(urls[i % len(urls)], token, state)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {str(exc)[:80]}")
        if state["ready_sent"] and not state["stop"]:
            out.put(("dropped", 1))

    for start in range(0, count, CONNECT_BATCH):
        before = state["ready"] + len(errors)
        tasks += [asyncio.create_task(run(i)) for i in range(start, min(count, start + CONNECT_BATCH))]
        deadline = time.monotonic() + 60
        while state["ready"] + len(errors) < min(count, start + CONNECT_BATCH) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if state["ready"] + len(errors) == before:
            break  # nothing connects any more: report what we have
    state["ready_sent"] = True
    out.put(("ready", state["ready"], errors[:3], len(errors)))
    tasks.append(asyncio.create_task(report()))
    cpu_start = time.process_time()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    out.put(("cpu", time.process_time() - cpu_start))
    state["stop"] = True
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class Clients:
    procs: list
    out: mp.Queue
    stop: object
    connected: int
    errors: list[str]
    dropped: int = 0
    cpu_s: float = field(default=0.0)  # the client processes' CPU from "ready" to close()

    def close(self) -> None:
        self.stop.set()
        reported, deadline = 0, time.monotonic() + 20
        while reported < len(self.procs) and time.monotonic() < deadline:
            try:
                msg = self.out.get(timeout=1)
            except queue.Empty:
                continue
            if msg[0] == "cpu":
                self.cpu_s += msg[1]
                reported += 1
        for p in self.procs:
            p.join(20)
            if p.is_alive():
                p.kill()


def connect_displays(urls: list[str], token: str, displays: int, processes: int) -> Clients:
    """`displays` displays spread over `processes` client processes, each display on urls[i % len(urls)]."""
    ctx = mp.get_context("spawn")
    out, stop = ctx.Queue(), ctx.Event()
    processes = max(1, min(processes, displays))
    sizes = [displays // processes + (1 if i < displays % processes else 0) for i in range(processes)]
    procs = [ctx.Process(target=client_worker, args=(urls, token, n, out, stop), daemon=True) for n in sizes]
    for p in procs:
        p.start()
    connected, errors, ready = 0, [], 0
    deadline = time.monotonic() + 900
    while ready < len(procs):
        msg = out.get(timeout=max(1.0, deadline - time.monotonic()))
        if msg[0] != "ready":
            continue  # (nothing else is expected before every process is ready)
        _, n, errs, n_errs = msg
        ready += 1
        connected += n
        errors += errs + ([f"{n_errs} failed"] if n_errs else [])
    return Clients(procs, out, stop, connected, errors)


def measure_calls(urls: list[str], kiosk: str, clerk: str, clients: Clients, rounds: int, settle: float) -> dict:
    """`rounds` calls, through urls in turn. Each round issues a ticket (not timed), then times
    POST /counters/2/next from just before the request to each display's receipt of its
    `ticket.called` change, then serves the citizen (start, finish; not timed). `settle`
    seconds after the untimed changes let their fan-out finish, so rounds never overlap."""
    latencies: list[float] = []
    spreads: list[float] = []
    firsts: list[float] = []
    lasts: list[float] = []  # the last display's receipt, per call
    request_ms: list[float] = []
    lost = stalled = 0
    for r in range(rounds):
        via = urls[r % len(urls)]
        try:
            post(via, "/api/v1/tickets", kiosk, {"service": "CT"})
            time.sleep(settle)
            t0 = time.time()
            answer = post(via, "/api/v1/counters/2/next", clerk)
        except TimeoutError:
            # An overloaded server (threads, 1000 sockets) now and then leaves a request unanswered
            # for a minute: count it, put the counter back in order, and go on with the next round.
            stalled += 1
            _serve_current(via, clerk)
            continue
        request_ms.append((time.time() - t0) * 1000)
        code = answer["ticket"]["code"]
        got: list[float] = []
        deadline = time.monotonic() + ROUND_TIMEOUT
        while len(got) < clients.connected and time.monotonic() < deadline:
            try:
                msg = clients.out.get(timeout=0.2)
            except queue.Empty:
                continue
            if msg[0] == "recv" and msg[1] == code:
                got += msg[3]
            elif msg[0] == "dropped":
                clients.connected -= msg[1]
                clients.dropped += msg[1]
        lost += max(0, clients.connected - len(got))
        latencies += [(t - t0) * 1000 for t in got]
        if got:
            spreads.append((max(got) - min(got)) * 1000)
            firsts.append((min(got) - t0) * 1000)
            lasts.append((max(got) - t0) * 1000)
        post(via, "/api/v1/counters/2/start", clerk)
        post(via, "/api/v1/counters/2/finish", clerk)
        time.sleep(settle)
    pct = percentile
    return {
        "connected": clients.connected, "errors": clients.errors, "lost": lost, "stalled": stalled, "rounds": rounds,
        "dropped": clients.dropped,
        "p50": pct(latencies, 50) if latencies else None, "p99": pct(latencies, 99) if latencies else None,
        "max": max(latencies) if latencies else None, "spread_p50": pct(spreads, 50) if spreads else None,
        "first_p50": pct(firsts, 50) if firsts else None, "last_p50": pct(lasts, 50) if lasts else None,
        "lasts": lasts, "firsts": firsts, "requests": request_ms, "request_p50": pct(request_ms, 50),
    }


def _serve_current(url: str, clerk: str) -> None:
    """After a request that timed out: finish whatever the counter holds, if it holds anything."""
    for action in ("start", "finish"):
        try:
            post(url, f"/api/v1/counters/2/{action}", clerk)
        except (RuntimeError, OSError):
            pass  # nothing called, or already started
