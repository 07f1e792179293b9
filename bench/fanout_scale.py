"""Fan-out at province scale: a clerk's call reaching 1000 and 5000 hall displays connected
to TWO `motcua serve --prod` processes (gunicorn + gevent) that share PostgreSQL and Redis.

    python -m bench.fanout_scale [--sizes 1000,5000] [--rounds 20] [--clients 2]

Half the displays connect to each process; calls go through the processes in turn, so half
of every call's receipts crossed Redis. Latency: from just before POST /counters/2/next to
each display's receipt of the `ticket.called` change (`time.time()` on one machine).

Displays are the minimal Engine.IO/Socket.IO websocket clients of bench/displays.py: they
join /display with a device token, answer pings, and decode the call messages, so that the
client processes, which share the machine's cores with both servers, Redis and PostgreSQL,
disturb the figures as little as possible.

Target (issue 6): p99 under 150 ms to 5000 displays across two processes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from bench import server as bench_server
from bench.displays import connect_displays, measure_calls
from bench.report import write_section
from bench.server import cli, ms, raise_open_files

SERVER_ENV = {"MOTCUA_ISSUE_LIMIT_DEVICE": "off", "MOTCUA_ISSUE_LIMIT_ADDRESS": "off", "MOTCUA_DAYEND": "off"}
PROD = [sys.executable, "-m", "motcua", "serve", "--prod"]


# ---- servers --------------------------------------------------------------------------------


@dataclass
class Process:
    url: str
    process: subprocess.Popen

    def rss_mb(self) -> list[float]:
        """Resident memory of each process: gunicorn's master, then its worker."""
        out = []
        for pid in [self.process.pid, *bench_server._children(self.process.pid)]:
            try:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmRSS:"):
                        out.append(int(line.split()[1]) / 1024)
            except OSError:
                pass
        return out

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its worker so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [self.process.pid, *bench_server._children(self.process.pid)]:
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return total / tick

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_second(first: bench_server.BenchServer) -> Process:
    """Another `motcua serve --prod` on the first one's database, Redis and instance folder."""
    port = bench_server.free_port()
    env = {**first.env, "MOTCUA_PORT": str(port)}
    log = open(first.instance / "server-2.log", "wb")
    proc = subprocess.Popen(PROD, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=bench_server.ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            return Process(url, proc)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((first.instance / "server-2.log").read_text(errors="replace")[-2000:]) from None
            time.sleep(0.2)


def start_pair(database_url: str, redis_url: str) -> tuple[bench_server.BenchServer, Process, str]:
    first = bench_server.start(database_url, command=PROD, extra_env={**SERVER_ENV, "REDIS_URL": redis_url})
    try:
        token = cli(first.env, "devices", "add", "Bench display", "--kind", "display")
        second = start_second(first)
    except Exception:
        first.stop()
        raise
    return first, second, token


def run(sizes: list[int], rounds: int, client_procs: int, redis_url: str) -> list[dict]:
    from bench.issue import drop_pg_database, fresh_pg_database

    pg = fresh_pg_database()
    results = []
    try:
        first, second, token = start_pair(pg, redis_url)
        a = Process(first.url, first.process)
        try:
            urls = [first.url, second.url]
            for n in sizes:
                print(f"{n} displays on 2 processes…", flush=True)
                clients = connect_displays(urls, token, n, client_procs)
                try:
                    time.sleep(1.0)
                    cpu = a.cpu_seconds() + second.cpu_seconds()
                    # The untimed changes' fan-out finishes before the next timed call.
                    settle = 0.3 + clients.connected / 4000
                    result = measure_calls(urls, first.kiosk_token, first.clerk_token, clients, rounds, settle)
                    # Four changes per round (issued, called, started, finished), each fanned out by both processes.
                    cpu_ms = (a.cpu_seconds() + second.cpu_seconds() - cpu) * 1000 / (rounds * 4 * 2)
                    result.update(displays=n, rss=[a.rss_mb(), second.rss_mb()], cpu_ms=cpu_ms)
                finally:
                    clients.close()
                print("   ", line(result), flush=True)
                results.append(result)
                if result["connected"] < n * 0.9:
                    break
        finally:
            second.stop()
            first.stop()
    finally:
        drop_pg_database(pg)
    return results


def _rss(r: dict) -> str:
    return " / ".join(f"{max(p) if p else 0:.0f}" for p in r["rss"])


def line(r: dict) -> str:
    return (f"connected {r['connected']}/{r['displays']}  p50 {ms(r['p50'])} ms  p99 {ms(r['p99'])} ms  max {ms(r['max'])} ms  "
            f"spread {ms(r['spread_p50'])} ms  first {ms(r['first_p50'])} ms  request {ms(r['request_p50'])} ms  "
            f"CPU/change/process {r['cpu_ms']:.1f} ms  lost {r['lost']}  dropped {r['dropped']}  worker RSS {_rss(r)} MB"
            + (f"  errors {r['errors'][:2]}" if r["errors"] else ""))


def table(results: list[dict]) -> str:
    rows = ["| displays | connected | p50 ms | p99 ms | max ms | recv spread p50 ms | call request p50 ms "
            "| server CPU per change per process ms | lost receipts | RSS per process MB (A / B) | p99 < 150 ms |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for r in results:
        ok = "yes" if r["p99"] is not None and r["p99"] < 150 and r["lost"] == 0 else "no"
        rows.append(f"| {r['displays']} | {r['connected']} | {ms(r['p50'])} | {ms(r['p99'])} | {ms(r['max'])} | "
                    f"{ms(r['spread_p50'])} | {ms(r['request_p50'])} | {r['cpu_ms']:.1f} | {r['lost']} | {_rss(r)} | {ok} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--redis", default=os.environ.get("MOTCUA_TEST_REDIS", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--no-write", action="store_true", help="print only, do not update docs/benchmarks.md")
    args = parser.parse_args()
    limit = raise_open_files()
    results = run([int(s) for s in args.sizes.split(",")], args.rounds, args.clients, args.redis)
    text = table(results)
    print(text)
    notes = (
        "Two `motcua serve --prod` processes (gunicorn, one gevent worker each) on one PostgreSQL database, with the "
        f"Redis message queue; displays split evenly between them, calls made through each in turn; {args.rounds} calls per size; "
        f"{args.clients} client processes of the minimal websocket clients of bench/displays.py on the same machine "
        f"(open-files limit {limit}). "
        "Latency: from just before POST /counters/2/next to each display's receipt of the `ticket.called` change. "
        "Recv spread: last receipt − first, per call. RSS: the largest process of each server (its gevent worker). "
        "Command: `python -m bench.fanout_scale`. Target: p99 under 150 ms to 5000 displays across two processes."
    )
    if not args.no_write:
        path = write_section("Fan-out across two processes with Redis (bench/fanout_scale.py)", f"{notes}\n\n{text}\n")
        print(f"written to {path}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
