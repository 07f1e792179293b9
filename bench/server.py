"""Start a real motcua server for a benchmark: a fresh instance, migrated and seeded, with a
kiosk token and a clerk token, in a child process on a free loopback port."""

from __future__ import annotations

import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"


def free_port(count: int = 2) -> int:
    """A port P with P … P+count−1 free, below the kernel's ephemeral range: `serve --workers N`
    listens on consecutive ports, and an ephemeral port (what bind(0) hands out) can be taken
    by any outgoing connection, the first server's own to Redis or PostgreSQL included."""
    low = 20000
    with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
        high = min(int(fh.read().split()[0]), 32768) - count
    for _ in range(200):
        port = random.randrange(low, high)
        try:
            for p in range(port, port + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port below the ephemeral range")


@dataclass
class BenchServer:
    url: str
    process: subprocess.Popen
    kiosk_token: str
    clerk_token: str
    instance: Path
    env: dict

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def rss_mb(self) -> float:
        """Resident memory of the server process and its children."""
        total = 0
        pids = [self.process.pid] + _children(self.process.pid)
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024


def _children(pid: int) -> list[int]:
    try:
        kids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def cli(env: dict, *args: str, stdin: str | None = None) -> str:
    """Run `motcua ARGS` against a bench instance; returns the last line (a token, say)."""
    out = subprocess.run([sys.executable, "-m", "motcua", *args], env=env, input=stdin, capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.strip().splitlines()[-1]


def start(database_url: str | None = None, *, command: list[str] | None = None, extra_env: dict | None = None,
          config: Path = CONFIG) -> BenchServer:
    """`command` replaces `motcua serve` (e.g. gunicorn); {port} in it is filled in."""
    instance = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    port = free_port()
    env = {**os.environ, "MOTCUA_CONFIG": str(config), "MOTCUA_INSTANCE": str(instance), "MOTCUA_HOST": "127.0.0.1",
           "MOTCUA_PORT": str(port), "DATABASE_URL": database_url or f"sqlite:///{instance}/motcua.db",
           # Measure the service, not the kiosk rate limits or the day-end job.
           "MOTCUA_ISSUE_LIMIT_DEVICE": "off", "MOTCUA_ISSUE_LIMIT_ADDRESS": "off", "MOTCUA_DAYEND": "off",
           **(extra_env or {})}
    cli(env, "db", "upgrade")
    cli(env, "seed")
    kiosk = cli(env, "devices", "add", "Kiosk bench", "--kind", "kiosk")
    cli(env, "users", "add", "bench-clerk", "--role", "clerk", "--counter", "2", "--password-stdin", stdin="bench-password\n")
    clerk = cli(env, "tokens", "issue", "bench-clerk")
    cmd = [c.format(port=port) for c in command] if command else [sys.executable, "-m", "motcua", "serve"]
    log = open(instance / "server.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    server = BenchServer(f"http://127.0.0.1:{port}", proc, kiosk, clerk, instance, env)
    wait_for(server.url, server)
    return server


def wait_for(url: str, server: BenchServer, timeout: float = 60) -> None:
    """Until `url` (the server's, or one of its other processes') answers; its log if it died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/api/v1/services", timeout=2)
            return
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((server.instance / "server.log").read_text(errors="replace")[-2000:]) from None
            time.sleep(0.2)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def raise_open_files() -> int:
    """Lift the open-files limit to its hard maximum (thousands of sockets); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


POST_TIMEOUT_S = 60


def post(url: str, path: str, token: str, body: dict | None = None) -> dict:
    """POST JSON with a bearer token; an HTTP error stops the benchmark with its body."""
    req = urllib.request.Request(url + path, data=json.dumps(body or {}).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=POST_TIMEOUT_S) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{path}: HTTP {exc.code} {exc.read().decode(errors='replace')[:300]}") from None


def ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"
