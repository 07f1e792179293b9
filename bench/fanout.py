"""Fan-out latency: from the clerk's "call next" request to the `change` arriving on N
connected hall displays (N = 10, 100, 1000), p50 and p99, in the threading default
(`motcua serve`) and in production (`motcua serve --prod`: gunicorn, one gevent worker).

    python -m bench.fanout [--sizes 10,100,1000] [--rounds 30] [--modes threading,gevent] [--workers 2]

Displays are the minimal Engine.IO/Socket.IO websocket clients of bench/displays.py (real
handshake, /display joined with a device token, pings answered, call messages decoded),
spread over `--workers` processes. Each round issues a ticket first (not timed), then times
POST /counters/2/next from just before the request to each display's receipt of the
`ticket.called` change; receipt times are `time.time()` in each process (one machine, one
clock). A round waits until every display has the call (or 30 s) before the next one, so
rounds never overlap.

Target: p99 under 100 ms to 1000 displays. Client processes share the CPU with the server,
so on a small machine the figures include the clients' own queueing; "recv spread" (last
receipt − first receipt) shows how long the server takes to get one event out to everyone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench import server as bench_server
from bench.displays import connect_displays, measure_calls
from bench.report import write_section
from bench.server import ms, raise_open_files

# The production command (gunicorn, one gevent worker, its websocket handler and connection limit).
PROD = [sys.executable, "-m", "motcua", "serve", "--prod"]
NO_ISSUE_LIMITS = {"MOTCUA_ISSUE_LIMIT_DEVICE": "off", "MOTCUA_ISSUE_LIMIT_ADDRESS": "off"}


def server_cpu_seconds(server: bench_server.BenchServer) -> float:
    """User + system CPU of the server process and its children (gunicorn's worker)."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in [server.process.pid, *bench_server._children(server.process.pid)]:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


def measure(server: bench_server.BenchServer, token: str, displays: int, rounds: int, workers: int) -> dict:
    clients = connect_displays([server.url], token, displays, workers)
    try:
        time.sleep(0.5)  # the last snapshots settle
        cpu_before = server_cpu_seconds(server)
        result = measure_calls([server.url], server.kiosk_token, server.clerk_token, clients, rounds, 0.2 + displays / 2000)
        # Four changes per round (issued, called, started, finished) went to every display.
        server_cpu_ms = (server_cpu_seconds(server) - cpu_before) * 1000 / (rounds * 4)
    finally:
        clients.close()
    result.update(displays=displays, server_rss_mb=server.rss_mb(), server_cpu_ms=server_cpu_ms,
                  client_cpu_ms=clients.cpu_s * 1000 / (rounds * 4), slow_rounds=sum(1 for m in result["lasts"] if m > 100))
    return result


def run_mode(mode: str, sizes: list[int], rounds: int, workers: int) -> list[dict]:
    command = PROD if mode == "gevent" else None
    # Each round issues a ticket through one kiosk: the kiosk rate limit is not what this measures.
    server = bench_server.start(command=command, extra_env=NO_ISSUE_LIMITS)
    results = []
    try:
        token = bench_server.cli(server.env, "devices", "add", "Bench display", "--kind", "display")
        for n in sizes:
            print(f"[{mode}] {n} displays…", flush=True)
            result = measure(server, token, n, rounds, workers)
            result["mode"] = mode
            print("   ", _line(result), flush=True)
            results.append(result)
            # A mode that could not connect everyone at this size will not at a larger one.
            if result["connected"] < n * 0.9:
                break
    finally:
        server.stop()
    return results


def _line(r: dict) -> str:
    return (f"connected {r['connected']}/{r['displays']}  p50 {ms(r['p50'])} ms  p99 {ms(r['p99'])} ms  max {ms(r['max'])} ms  "
            f"spread {ms(r['spread_p50'])} ms  last display p50 {ms(r['last_p50'])} ms  calls with a display over 100 ms {r['slow_rounds']}/{r['rounds']}  "
            f"request {ms(r['request_p50'])} ms  server CPU/change {ms(r['server_cpu_ms'])} ms  "
            f"clients CPU/change {ms(r['client_cpu_ms'])} ms  "
            f"lost {r['lost']}  dropped {r['dropped']}  requests unanswered for {bench_server.POST_TIMEOUT_S} s {r['stalled']}  "
            f"rss {r['server_rss_mb']:.0f} MB" + (f"  errors {r['errors'][:2]}" if r["errors"] else ""))


def table(results: list[dict]) -> str:
    rows = ["| server | displays | connected | p50 ms | p99 ms | max ms | last display p50 ms "
            "| calls reaching a display after 100 ms | recv spread p50 ms | call request p50 ms "
            "| server CPU per change ms | clients' CPU per change ms | lost receipts | rounds lost to a request unanswered for 60 s | server RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        name = "`motcua serve` (threading)" if r["mode"] == "threading" else "`motcua serve --prod` (gunicorn + gevent)"
        rows.append(f"| {name} | {r['displays']} | {r['connected']} | {ms(r['p50'])} | {ms(r['p99'])} | {ms(r['max'])} | "
                    f"{ms(r['last_p50'])} | {r['slow_rounds']}/{r['rounds']} | "
                    f"{ms(r['spread_p50'])} | {ms(r['request_p50'])} | {ms(r['server_cpu_ms'])} | {ms(r['client_cpu_ms'])} | "
                    f"{r['lost']} | {r['stalled']} | {r['server_rss_mb']:.0f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--modes", default="threading,gevent")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--no-write", action="store_true", help="print only, do not update docs/benchmarks.md")
    args = parser.parse_args()
    limit = raise_open_files()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: list[dict] = []
    for mode in args.modes.split(","):
        results += run_mode(mode.strip(), sizes, args.rounds, args.workers)
    text = table(results)
    print(text)
    notes = (
        f"Displays are the minimal Engine.IO/Socket.IO websocket clients of bench/displays.py (real handshake, /display "
        f"joined with a device token, pings answered, the call messages decoded), {args.workers} client processes on the "
        f"same machine (open-files limit {limit}); {args.rounds} calls per size. Latency: from just before POST "
        "/counters/2/next to the `ticket.called` change on each display. Last display: when the last display of a call got "
        "it. Recv spread: last display's receipt − first display's, per call. Target: p99 under 100 ms to 1000 displays.\n\n"
        "How to read it: the displays run on the same cores as the server, so their CPU is time the server could not use. "
        "They are kept light on purpose: one process per core, frames parsed as they arrive, and sockets polled at most "
        "every 2 ms (receipt times err late by up to 2 ms), because a client woken for every message costs the server a "
        "wake-up on each loopback send and took twice the CPU (a full python-socketio AsyncClient needs 60–90 ms of CPU "
        "per call at 1000). The server's own cost is the CPU column (it includes the four API requests of a round). "
        "`--prod` runs gunicorn's gevent worker with gevent-websocket's handler (motcua.production.WebSocketWorker); with "
        "the plain gevent worker python-engineio falls back to simple-websocket (pure-Python framing, a reader per socket) "
        "and took about a quarter more CPU and time per display in the same setup. With `motcua serve` (threads) the cost grows faster than the number "
        "of displays: one thread per websocket, all contending for the GIL."
    )
    if not args.no_write:
        path = write_section("Fan-out to hall displays (bench/fanout.py)", f"{notes}\n\n{text}\n")
        print(f"written to {path}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
