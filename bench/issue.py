"""Issuing throughput and latency: POST /api/v1/tickets over HTTP on loopback.

    python -m bench.issue [--seconds 10] [--rate 300] [--no-postgres] [--no-write]

Two kinds of load, because they answer two different questions:

* closed loop, 1, 10 and 50 clients: each client sends its next request as soon as the last one
  is answered, so the server is always saturated. This gives the most tickets per second the
  server can issue; the latency is then just clients ÷ throughput (Little's law: 50 clients at
  300 tickets/s wait 167 ms each, whatever the server does).
* open loop, 50 clients at a fixed total rate (default 300 tickets/s, Poisson arrivals): what
  50 kiosks and clerks see while the office issues that many tickets per second. A request's
  latency runs from the moment it was due, so time spent queued behind a slow answer counts.

The load generator is one asyncio process speaking HTTP/1.1 with keep-alive; it shares the
machine's cores with the server. Targets (issue 2): at least 300 tickets/s on SQLite, and p99
under 20 ms at 50 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from dataclasses import dataclass, field

from bench import server as bench_server
from bench.report import write_section
from bench.server import ms

FIELDS = ("CT", "KD", "XH")  # demo fields without a daily quota
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
REDIS_URL = "redis://127.0.0.1:6379/0"
PROD = [sys.executable, "-m", "motcua", "serve", "--prod"]


# ---- load generator ------------------------------------------------------------------------


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def row(self, **extra) -> dict:
        lat = [x * 1000 for x in self.latencies]
        return {"requests": len(lat), "errors": sum(self.errors.values()), "error_kinds": dict(self.errors),
                "per_s": len(lat) / self.elapsed if self.elapsed else 0.0,
                "p50": bench_server.percentile(lat, 50) if lat else None,
                "p99": bench_server.percentile(lat, 99) if lat else None,
                "max": max(lat) if lat else None, **extra}


class Client:
    """One keep-alive HTTP/1.1 connection issuing tickets."""

    def __init__(self, host: str, port: int, token: str, n: int) -> None:
        self.host, self.port, self.n = host, port, n
        self.head = (f"POST /api/v1/tickets HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.sent = 0
        self.closing = False

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def issue(self) -> int:
        """Send one request and read its answer; returns the HTTP status."""
        body = json.dumps({"service": FIELDS[(self.n + self.sent) % 3], "idempotency_key": uuid.uuid4().hex}).encode()
        self.sent += 1
        assert self.writer is not None and self.reader is not None
        if self.closing:  # the server said it would close: a new connection, as a browser would
            await self.close()
            await self.connect()
        self.writer.write(self.head.format(length=len(body)).encode() + body)
        status_line = await self.reader.readline()
        length, self.closing = 0, status_line.startswith(b"HTTP/1.0")
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                self.closing = True
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _one(client: Client, load: Load, due: float) -> None:
    try:
        status = await client.issue()
        if status != 201:
            load.error(str(status))
    except (OSError, asyncio.IncompleteReadError, IndexError, ValueError) as exc:
        load.error(type(exc).__name__)
        await client.close()
        await client.connect()
    load.latencies.append(time.perf_counter() - due)


async def closed_loop(ports: list[int], token: str, clients: int, seconds: float) -> Load:
    conns = [Client("127.0.0.1", ports[i % len(ports)], token, i) for i in range(clients)]
    await asyncio.gather(*(c.connect() for c in conns))
    load = Load()
    start = time.perf_counter()
    stop = start + seconds

    async def run(c: Client) -> None:
        while time.perf_counter() < stop:
            await _one(c, load, time.perf_counter())

    await asyncio.gather(*(run(c) for c in conns))
    load.elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in conns))
    return load


async def open_loop(ports: list[int], token: str, clients: int, rate: float, seconds: float) -> Load:
    """Poisson arrivals at `rate` per second, dealt to the clients in turn."""
    conns = [Client("127.0.0.1", ports[i % len(ports)], token, i) for i in range(clients)]
    await asyncio.gather(*(c.connect() for c in conns))
    rng = random.Random(2)
    offsets, t = [], 0.0
    while t < seconds:
        offsets.append(t)
        t += rng.expovariate(rate)
    load = Load()
    start = time.perf_counter() + 0.05

    async def run(k: int) -> None:
        for off in offsets[k::clients]:
            due = start + off
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await _one(conns[k], load, due)  # from when it was due: waiting for the connection counts

    await asyncio.gather(*(run(k) for k in range(clients)))
    load.elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in conns))
    return load


# ---- servers -------------------------------------------------------------------------------


@dataclass
class Setup:
    database: str
    server: str
    workers: int = 1

    def command(self) -> list[str] | None:
        if self.server == "threads":
            return None
        return [*PROD, "--workers", str(self.workers)] if self.workers > 1 else PROD


def bench_setup(setup: Setup, database_url: str | None, seconds: float, rate: float) -> list[dict]:
    extra = {"REDIS_URL": REDIS_URL} if setup.workers > 1 else {}
    srv = bench_server.start(database_url, command=setup.command(), extra_env=extra)
    port = int(srv.url.rsplit(":", 1)[1])
    ports = [port + i for i in range(setup.workers)]
    if setup.workers > 1:
        for p in ports[1:]:
            bench_server.wait_for(f"http://127.0.0.1:{p}", srv)
    try:
        asyncio.run(closed_loop(ports, srv.kiosk_token, 10, 2.0))  # warm up: pools, caches, statements
        rows = []
        for clients in (1, 10, 50):
            load = asyncio.run(closed_loop(ports, srv.kiosk_token, clients, seconds))
            rows.append(load.row(load="closed", clients=clients, rate=None))
        load = asyncio.run(open_loop(ports, srv.kiosk_token, 50, rate, seconds))
        rows.append(load.row(load="open", clients=50, rate=rate))
        for r in rows:
            r.update(database=setup.database, server=setup.server, workers=setup.workers)
            print(_line(r), flush=True)
        return rows
    finally:
        srv.stop()


def fresh_pg_database() -> str:
    from sqlalchemy import create_engine, text

    name = f"motcua_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL.format(db="test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_URL.format(db=name)


def drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_URL.format(db="test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


# ---- report --------------------------------------------------------------------------------

SERVER_NAMES = {"threads": "`motcua serve` (threads)", "gevent": "`motcua serve --prod` (gunicorn + gevent)"}


def _server(r: dict) -> str:
    name = SERVER_NAMES[r["server"]]
    return f"{name}, {r['workers']} processes" if r["workers"] > 1 else name


def _load(r: dict) -> str:
    return f"closed, {r['clients']} clients" if r["load"] == "closed" else f"open, {r['rate']:.0f}/s over {r['clients']} clients"


def _line(r: dict) -> str:
    return (f"{r['database']:10} {_server(r):45} {_load(r):28} {r['per_s']:6.0f} tickets/s  p50 {ms(r['p50']):>7} ms"
            f"  p99 {ms(r['p99']):>7} ms  max {ms(r['max']):>7} ms  errors {r['errors']} {r['error_kinds'] or ''}")


def table(rows: list[dict]) -> str:
    lines = ["| database | server | load | tickets/s | p50 ms | p99 ms | max ms | errors |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['database']} | {_server(r)} | {_load(r)} | {r['per_s']:.0f} | {ms(r['p50'])} | {ms(r['p99'])} | "
              f"{ms(r['max'])} | {r['errors']} |" for r in rows]
    return "\n".join(lines)


def verdict(rows: list[dict], rate: float) -> str:
    sqlite = [r for r in rows if r["database"] == "SQLite"]
    best = max(sqlite, key=lambda r: r["per_s"])
    opened = [r for r in sqlite if r["load"] == "open"]
    lines = [f"- Most tickets/s on SQLite: **{best['per_s']:.0f}** ({_server(best)}, {_load(best)}); target ≥ 300: "
             f"{'met' if best['per_s'] >= 300 else 'not met'}."]
    for r in opened:
        lines.append(f"- p99 at 50 clients issuing {rate:.0f}/s on SQLite, {_server(r)}: **{ms(r['p99'])} ms**; "
                     f"target < 20 ms: {'met' if r['p99'] is not None and r['p99'] < 20 and not r['errors'] else 'not met'}.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each row's load")
    ap.add_argument("--rate", type=float, default=300.0, help="open-loop tickets per second")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    bench_server.raise_open_files()
    rows = []
    for setup in (Setup("SQLite", "threads"), Setup("SQLite", "gevent"), Setup("SQLite", "gevent", workers=2)):
        rows += bench_setup(setup, None, args.seconds, args.rate)
    if not args.no_postgres:
        url = fresh_pg_database()
        try:
            rows += bench_setup(Setup("PostgreSQL", "gevent", workers=2), url, args.seconds, args.rate)
        finally:
            drop_pg_database(url)
    print(verdict(rows, args.rate))
    if args.no_write:
        return
    text = "\n".join([
        f"`POST /api/v1/tickets` over HTTP on loopback, {args.seconds:.0f} s per row, after a warm-up; each request with its own "
        "idempotency key, fields in turn. The load generator (one asyncio process, HTTP/1.1 keep-alive) shares the 2 cores "
        "with the server. Two `--prod` processes (SQLite's last rows, and PostgreSQL) share Redis for the displays' "
        "changes and the rate limits, the clients spread over both; on SQLite their writers queue on one lock "
        "(motcua.db.WriterLock). "
        "Command: `python -m bench.issue`.", "",
        "*Closed* loop: each client sends its next request when the last is answered, so the server is saturated and "
        "the tickets/s column is its capacity; latency there is clients ÷ throughput (Little's law). *Open* loop: Poisson "
        f"arrivals at {args.rate:.0f} tickets/s over 50 keep-alive clients, latency counted from when each request was due, "
        "so queueing behind a slow answer counts.", "",
        table(rows), "",
        verdict(rows, args.rate), "",
        "A p99 under 20 ms with 50 clients that never pause would need about 2,500 tickets/s (50 ÷ 0.02 s): the "
        "closed-loop rows show capacity, the open-loop row the latency at the target rate.",
    ])
    print(f"written to {write_section('Issuing tickets (bench/issue.py)', text)}")


if __name__ == "__main__":
    main()
