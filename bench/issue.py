"""Issuing throughput and latency: POST /api/v1/tickets over HTTP with 1, 10 and 50 concurrent
clients (closed loop: each client sends its next request when the last one answered), on SQLite
(one process, threads) and on PostgreSQL.

    python -m bench.issue [--requests 3000] [--no-postgres]

Target: p99 under 20 ms at 50 clients, and at least 300 tickets/s on SQLite on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
import uuid

from bench import server as bench_server
from bench.report import write_section

FIELDS = ("CT", "KD", "XH")  # demo fields without a daily quota
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"


def run_clients(url: str, token: str, clients: int, total: int) -> dict:
    host, port = url.removeprefix("http://").split(":")
    per_client = max(1, total // clients)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine: list[float] = []
        barrier.wait()
        for i in range(per_client):
            body = json.dumps({"service": FIELDS[(n + i) % 3], "idempotency_key": uuid.uuid4().hex})
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/tickets", body, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 201:
                    errors.append(str(resp.status))
            except (OSError, http.client.HTTPException) as exc:
                errors.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {
        "clients": clients,
        "requests": len(ms),
        "errors": len(errors),
        "per_s": len(ms) / elapsed,
        "p50": bench_server.percentile(ms, 50),
        "p99": bench_server.percentile(ms, 99),
    }


def bench_backend(name: str, database_url: str | None, total: int) -> list[dict]:
    srv = bench_server.start(database_url)
    try:
        run_clients(srv.url, srv.kiosk_token, 10, 300)  # warm up
        rows = []
        for clients in (1, 10, 50):
            row = run_clients(srv.url, srv.kiosk_token, clients, total)
            row["backend"] = name
            rows.append(row)
            print(f"{name:10} {clients:3} clients: {row['per_s']:7.1f} tickets/s  p50 {row['p50']:6.1f} ms  p99 {row['p99']:6.1f} ms  errors {row['errors']}")
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000, help="requests per client count")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    rows = bench_backend("SQLite", None, args.requests)
    if not args.no_postgres:
        url = fresh_pg_database()
        try:
            rows += bench_backend("PostgreSQL", url, args.requests)
        finally:
            drop_pg_database(url)
    lines = [
        "`POST /api/v1/tickets` over HTTP on loopback, one `motcua serve` process (threads), closed-loop clients "
        f"({args.requests} requests per row; the load generator runs on the same 2 cores). Command: `python -m bench.issue`.", "",
        "| database | clients | tickets/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['backend']} | {r['clients']} | {r['per_s']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} |" for r in rows]
    lines += ["", "Targets: p99 under 20 ms at 50 clients; at least 300 tickets/s on SQLite."]
    path = write_section("Issuing tickets (bench/issue.py)", "\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
