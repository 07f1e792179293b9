"""Memory per process: resident memory (RSS) of a `motcua serve --prod` process (gunicorn's
master and its gevent worker) idle, with 1000 hall displays connected, and after calls have
been fanned out to all of them; for a commune office (SQLite) and a province process
(PostgreSQL and the Redis message queue).

    python -m bench.memory [--displays 1000] [--calls 10]

Target (issue 6): under 200 MB per process with 1000 sockets.
"""

from __future__ import annotations

import argparse
import os
import time

from bench import server as bench_server
from bench.displays import connect_displays, measure_calls
from bench.fanout_scale import PROD, SERVER_ENV, Process
from bench.report import write_section
from bench.server import cli, raise_open_files

TARGET_MB = 200


def rss(server: bench_server.BenchServer) -> tuple[float, float]:
    """(master, worker) RSS in MB."""
    values = Process(server.url, server.process).rss_mb()
    return (values[0], max(values[1:], default=0.0))


def measure(name: str, database_url: str | None, extra_env: dict, displays: int, calls: int) -> dict:
    server = bench_server.start(database_url, command=PROD, extra_env={**SERVER_ENV, **extra_env})
    try:
        token = cli(server.env, "devices", "add", "Bench display", "--kind", "display")
        time.sleep(1.0)
        idle = rss(server)
        clients = connect_displays([server.url], token, displays, 2)
        try:
            time.sleep(2.0)
            connected = rss(server)
            result = measure_calls([server.url], server.kiosk_token, server.clerk_token, clients, calls, 0.3 + clients.connected / 4000)
            after = rss(server)
        finally:
            clients.close()
        row = {"name": name, "displays": displays, "connected": result["connected"], "idle": idle, "sockets": connected,
               "after": after, "lost": result["lost"], "p99": result["p99"]}
        print(f"{name}: connected {row['connected']}/{displays}  worker RSS idle {idle[1]:.0f} MB, with sockets {connected[1]:.0f} MB, "
              f"after {calls} calls {after[1]:.0f} MB; master {after[0]:.0f} MB", flush=True)
        return row
    finally:
        server.stop()


def table(rows: list[dict]) -> str:
    out = ["| setup | displays connected | worker RSS idle MB | worker RSS with sockets MB "
           "| worker RSS after calls MB | per socket KB | master RSS MB | under 200 MB |",
           "|---|---:|---:|---:|---:|---:|---:|:---:|"]
    for r in rows:
        per_socket = (r["after"][1] - r["idle"][1]) * 1024 / max(1, r["connected"])
        ok = "yes" if max(r["after"]) < TARGET_MB and r["connected"] == r["displays"] else "no"
        out.append(f"| {r['name']} | {r['connected']} | {r['idle'][1]:.0f} | {r['sockets'][1]:.0f} | {r['after'][1]:.0f} | "
                   f"{per_socket:.0f} | {r['after'][0]:.0f} | {ok} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--displays", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--redis", default=os.environ.get("MOTCUA_TEST_REDIS", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only, do not update docs/benchmarks.md")
    args = parser.parse_args()
    limit = raise_open_files()
    rows = [measure("commune: SQLite, one process", None, {}, args.displays, args.calls)]
    if not args.no_postgres:
        from bench.issue import drop_pg_database, fresh_pg_database

        pg = fresh_pg_database()
        try:
            rows.append(measure("province: PostgreSQL + Redis queue", pg, {"REDIS_URL": args.redis}, args.displays, args.calls))
        finally:
            drop_pg_database(pg)
    text = table(rows)
    print(text)
    notes = (
        f"`motcua serve --prod` (gunicorn master + one gevent worker with gevent-websocket's handler); {args.displays} hall "
        f"displays on websocket (the minimal clients of bench/displays.py in 2 processes, open-files limit {limit}); "
        f"{args.calls} calls fanned out to all of them. "
        "RSS from /proc (VmRSS). Command: `python -m bench.memory`. Target: under 200 MB per process with 1000 sockets."
    )
    if not args.no_write:
        path = write_section("Memory per process (bench/memory.py)", f"{notes}\n\n{text}\n")
        print(f"written to {path}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
