"""Fan-out at province scale: a clerk's call reaching 1000 and 5000 hall displays connected
to TWO `motcua serve --prod` processes (gunicorn + gevent) that share PostgreSQL and Redis.

    python -m bench.fanout_scale [--sizes 1000,5000] [--rounds 20] [--clients 4]

Half the displays connect to each process; calls go through the processes in turn, so half
of every call's receipts crossed Redis. Latency: from just before POST /counters/2/next to
each display's receipt of the `ticket.called` change (`time.time()` on one machine).

Displays here are minimal Engine.IO/Socket.IO websocket clients (aiohttp): they join
/display with a device token, answer pings, and decode only the call messages, so that the
client processes, which share the machine's cores with both servers, Redis and PostgreSQL,
disturb the figures as little as possible.

Target (issue 6): p99 under 150 ms to 5000 displays across two processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import queue
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from bench import server as bench_server
from bench.server import cli, ms, post, raise_open_files
from bench.report import write_section

NS = "/display"
CONNECT_BATCH = 100
ROUND_TIMEOUT = 30.0
SERVER_ENV = {"MOTCUA_ISSUE_LIMIT_DEVICE": "off", "MOTCUA_ISSUE_LIMIT_ADDRESS": "off", "MOTCUA_DAYEND": "off"}
PROD = [sys.executable, "-m", "motcua", "serve", "--prod"]


# ---- display clients ---------------------------------------------------------------------


async def display(session, url: str, token: str, state: dict) -> None:  # noqa: ANN001
    """One display: websocket straight away (no polling), join /display, then listen."""
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with session.ws_connect(ws_url, heartbeat=None, max_msg_size=0) as ws:
        opened = await ws.receive_str()
        assert opened.startswith("0"), opened
        await ws.send_str(f"40{NS}," + json.dumps({"token": token}))
        counted = False
        async for msg in ws:
            if msg.type != 1:  # aiohttp.WSMsgType.TEXT
                break
            data = msg.data
            if data == "2":
                await ws.send_str("3")
            elif data.startswith(f"44{NS},"):
                raise RuntimeError("refused: " + data[:200])
            elif data.startswith(f'42{NS},["snapshot"'):
                if not counted and not state["ready_sent"]:  # the server sends it on connect: this display is live
                    state["ready"] += 1
                    counted = True
            elif data.startswith(f'42{NS},["change"') and '"ticket.called"' in data:
                at = time.time()
                change = json.loads(data[len(f"42{NS},"):])[1]
                state["on_call"](change["ticket"]["code"], change["call"]["id"], at)
            if state["stop"]:
                break


def client_worker(urls: list[str], token: str, count: int, out: mp.Queue, stop: mp.Event) -> None:  # type: ignore[valid-type]
    raise_open_files()
    asyncio.run(_client_worker(urls, token, count, out, stop))


async def _client_worker(urls: list[str], token: str, count: int, out: mp.Queue, stop: mp.Event) -> None:  # type: ignore[valid-type]
    import aiohttp

    fresh: dict[tuple[str, int], list[float]] = {}  # receipts not yet reported, by (code, call id)
    errors: list[str] = []
    state = {"ready": 0, "ready_sent": False, "stop": False, "dropped": 0}

    def on_call(code: str, call_id: int, at: float) -> None:
        fresh.setdefault((code, call_id), []).append(at)

    async def report() -> None:
        """Receipts go to the measuring process in small batches (times were taken on arrival)."""
        while not state["stop"]:
            await asyncio.sleep(0.02)
            for key in list(fresh):
                out.put(("recv", key[0], key[1], fresh.pop(key)))

    state["on_call"] = on_call
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None, connect=60)) as session:
        tasks = []

        async def run(i: int) -> None:
            try:
                await display(session, urls[i % len(urls)], token, state)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  counted and reported
                errors.append(f"{type(exc).__name__}: {str(exc)[:80]}")
            if state["ready_sent"] and not state["stop"]:
                state["dropped"] += 1
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
        while not stop.is_set():
            await asyncio.sleep(0.1)
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

    def close(self) -> None:
        self.stop.set()
        for p in self.procs:
            p.join(20)
            if p.is_alive():
                p.kill()


def connect_displays(urls: list[str], token: str, displays: int, processes: int) -> Clients:
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
    log = open(first.instance / "server-2.log", "wb")  # noqa: SIM115  owned by the child
    proc = subprocess.Popen(PROD, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=bench_server.ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)  # noqa: S310
            return Process(url, proc)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((first.instance / "server-2.log").read_text(errors="replace")[-2000:]) from None
            time.sleep(0.2)


# ---- measuring --------------------------------------------------------------------------------


def measure_calls(urls: list[str], kiosk: str, clerk: str, clients: Clients, rounds: int) -> dict:
    latencies: list[float] = []
    spreads: list[float] = []
    firsts: list[float] = []
    request_ms: list[float] = []
    lost = 0
    settle = 0.3 + clients.connected / 4000  # the untimed changes' fan-out finishes first
    for r in range(rounds):
        via = urls[r % len(urls)]
        post(via, "/api/v1/tickets", kiosk, {"service": "CT"})
        time.sleep(settle)
        t0 = time.time()
        answer = post(via, "/api/v1/counters/2/next", clerk)
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
        post(via, "/api/v1/counters/2/start", clerk)
        post(via, "/api/v1/counters/2/finish", clerk)
        time.sleep(settle)
    pct = bench_server.percentile
    return {
        "connected": clients.connected, "errors": clients.errors, "lost": lost, "rounds": rounds, "dropped": clients.dropped,
        "p50": pct(latencies, 50) if latencies else None, "p99": pct(latencies, 99) if latencies else None,
        "max": max(latencies) if latencies else None, "spread_p50": pct(spreads, 50) if spreads else None,
        "first_p50": pct(firsts, 50) if firsts else None, "request_p50": pct(request_ms, 50),
    }


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
                    result = measure_calls(urls, first.kiosk_token, first.clerk_token, clients, rounds)
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
    rows = ["| displays | connected | p50 ms | p99 ms | max ms | recv spread p50 ms | call request p50 ms | server CPU per change per process ms | lost receipts | RSS per process MB (A / B) | p99 < 150 ms |",
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
    parser.add_argument("--clients", type=int, default=4, help="client processes")
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
        f"{args.clients} client processes of minimal websocket clients on the same machine (open-files limit {limit}). "
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
