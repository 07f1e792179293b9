"""The fault suite: real `motcua serve --prod` processes with PostgreSQL and Redis reached
through a TCP proxy (tests/support/tcp_proxy.py) that stalls, resets and drops their connections, and
SQLite on a small file system that fills up or turns read-only. What must hold:

- a stalled database: issuing answers 503 within 5 s, and works again within 5 s once the
  network is back (no request waits for minutes, no stuck attempt keeps the write gate);
- reset and dropped connections of PostgreSQL and Redis: 503 meanwhile, never a hang or a 500,
  and recovery without a restart; a stalled Redis never stops issuing;
- a worker killed during an outage comes back, and so does the set; a server started with its
  database down starts, answers 503, then serves (and prints what was pending) once it is up;
- a full disk makes /healthz say so; a read-only SQLite gives a clear 503, not a traceback;
- every ticket that got a 201 is in the database with the number the citizen was given.

Run: `MOTCUA_REQUIRE_SERVICES=1 python -m pytest tests/test_fault_suite.py` (PostgreSQL, Redis;
the SQLite tests mount a tmpfs and need root). Bounds are generous (seconds), never micro-timing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from motcua.app import create_app
from motcua.migrate import upgrade
from tests.support.demo import Demo, populate
from tests.support.env import DEMO_CONFIG, REPO, free_port, skip_or_fail
from tests.support.faults import Load, process_tree, tickets_in_db
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import wait_until

PROD = {"MOTCUA_PROD": "1", "MOTCUA_DAYEND": "off", "MOTCUA_ISSUE_LIMIT_DEVICE": "off", "MOTCUA_ISSUE_LIMIT_ADDRESS": "off"}
BOUND_S = 5.0  # the issue's promise: a 503 within 5 s, recovery within 5 s


# ---- servers ------------------------------------------------------------------------------


class Server:
    """`motcua serve --prod [--workers N]` in a child process (its own session, so the whole
    set can be stopped), with the demo's people and devices."""

    def __init__(self, tmp_path: Path, database_url: str, demos: dict[str, Demo], env: dict | None = None, workers: int = 1) -> None:
        self.instance = tmp_path / f"instance-{uuid.uuid4().hex[:6]}"
        self.instance.mkdir(exist_ok=True)
        self.port = _free_ports(workers)
        self.urls = [f"http://127.0.0.1:{self.port + i}" for i in range(workers)]
        self.demos = demos
        self.log = self.instance / "server.log"
        self.env = {**os.environ, "MOTCUA_CONFIG": str(DEMO_CONFIG), "MOTCUA_INSTANCE": str(self.instance), "DATABASE_URL": database_url,
                    "MOTCUA_HOST": "127.0.0.1", "MOTCUA_PORT": str(self.port), "MOTCUA_WORKERS": str(workers), "PYTHONUNBUFFERED": "1",
                    "REDIS_URL": "", **PROD, **(env or {})}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def demo(self) -> Demo:
        return self.demos["demo"]

    def start(self, wait_ok: bool = True) -> Server:
        out = open(self.log, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "motcua", "serve"], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                        cwd=REPO, start_new_session=True)
        for url in self.urls:
            wait_until(lambda u=url: self._answers(u, ok_only=wait_ok), timeout=60, what=f"{url} to answer")
        return self

    def _answers(self, url: str, ok_only: bool) -> bool:
        assert self.alive(), f"server exited with {self.process.returncode}:\n{self.output()[-3000:]}"
        try:
            status = requests.get(f"{url}/healthz", timeout=2).status_code
        except requests.RequestException:
            return False
        return status == 200 or (not ok_only and status == 503)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)  # (clients' keep-alive connections would hold gunicorn's graceful stop longer)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def issue(self, field: str = "CT", url: str | None = None) -> tuple[requests.Response, float]:
        start = time.monotonic()
        r = requests.post(f"{url or self.url}/api/v1/tickets", json={"service": field, "idempotency_key": uuid.uuid4().hex},
                          headers=self.demo.kiosk, timeout=30)
        return r, time.monotonic() - start


def _free_ports(n: int) -> int:
    import socket

    while True:
        port = free_port()
        try:
            for i in range(1, n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port + i))
            return port
        except OSError:
            continue


@pytest.fixture
def servers():
    started: list[Server] = []
    yield started
    for s in started:
        s.stop()


def populated(database_url: str, tmp_path: Path) -> dict[str, Demo]:
    app = create_app(DEMO_CONFIG, database_url=database_url, instance=tmp_path / "setup", plugins=False)
    db = app.extensions["motcua"].db
    upgrade(db.engine)
    demos = populate(db, app.extensions["motcua"].config)
    db.dispose()
    return demos


def through(url: str, proxy: TcpProxy) -> str:
    """The same database URL, reached through the proxy."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.username}@{proxy.host}:{proxy.port}").geturl()


def upstream(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


# ---- what must hold -----------------------------------------------------------------------


def assert_unavailable(r: requests.Response, took: float) -> None:
    assert r.status_code == 503, (r.status_code, r.text[:300])
    err = r.json()["error"]
    assert err["code"] in ("database_unavailable", "busy") and err["message"] and err["message_en"], err
    assert took < BOUND_S, f"the 503 took {took:.1f} s"


def recovers(server: Server, url: str | None = None, bound: float = BOUND_S) -> dict:
    """Issuing answers 201 within `bound` seconds from now; returns the ticket."""
    deadline = time.monotonic() + bound
    while True:
        r, _ = server.issue(url=url)
        if r.status_code == 201:
            return r.json()
        assert r.status_code == 503, (r.status_code, r.text[:300])
        assert time.monotonic() < deadline, f"issuing did not recover within {bound:g} s: {r.text[:200]}"
        time.sleep(0.1)


def assert_tickets_survived(created: list[dict], direct_url: str) -> None:
    rows = tickets_in_db(direct_url)
    in_db = {public_id: (code, number) for code, number, public_id in rows}
    for t in created:  # every 201 is in the database, with the number the citizen was given
        assert in_db.get(t["public_id"]) == (t["service"], t["number"]), t
    by_field: defaultdict[str, list[int]] = defaultdict(list)
    for code, number, _ in rows:
        by_field[code].append(number)
    for code, numbers in by_field.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{code}: duplicate or missing numbers"


def loaded_failures_are_503s(load: Load) -> None:
    assert set(load.failures) <= {"503"}, dict(load.failures)


# ---- PostgreSQL through the proxy ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
def test_a_stalled_postgresql_gives_503_within_seconds_and_issuing_recovers_at_once(pg_url: str, tmp_path: Path, servers) -> None:
    with TcpProxy(upstream(pg_url)) as pg:
        url = through(pg_url, pg)
        server = Server(tmp_path, url, populated(url, tmp_path)).start()
        servers.append(server)
        with Load(server.url, server.demo.kiosk, threads=4) as load:
            wait_until(lambda: load.count() >= 20, timeout=60, what="20 tickets before the stall")
            pg.stall()
            try:
                for _ in range(4):  # the writers stuck in the stall never make the next ones wait longer
                    assert_unavailable(*server.issue())
                start = time.monotonic()
                health = requests.get(f"{server.url}/healthz", timeout=30)
                assert health.status_code == 503 and time.monotonic() - start < BOUND_S
                assert health.json()["error"]["details"]["database"]["ok"] is False
            finally:
                pg.resume()
            recovers(server)
            count = load.count()
            wait_until(lambda: load.count() >= count + 20, timeout=30, what="the load to go on after the stall")
        loaded_failures_are_503s(load)
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        assert server.alive()
    assert_tickets_survived(load.created, pg_url)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_reset_and_dropped_connections_of_postgresql_and_redis(pg_url: str, redis_url: str, tmp_path: Path, servers) -> None:
    with TcpProxy(upstream(pg_url)) as pg, TcpProxy(upstream(redis_url)) as rd:
        url = through(pg_url, pg)
        # Limits on, counted in Redis (and generous, so they never refuse this load).
        env = {"REDIS_URL": f"redis://{rd.host}:{rd.port}/0", "MOTCUA_ISSUE_LIMIT_DEVICE": "100000/minute",
               "MOTCUA_ISSUE_LIMIT_ADDRESS": "100000/minute"}
        server = Server(tmp_path, url, populated(url, tmp_path), env=env).start()
        servers.append(server)
        with Load(server.url, server.demo.kiosk, threads=4) as load:
            wait_until(lambda: load.count() >= 20, timeout=60, what="20 tickets")
            pg.reset()  # every connection to PostgreSQL cut at once
            recovers(server)
            pg.drop()  # and now refused
            try:
                for _ in range(3):
                    assert_unavailable(*server.issue())
            finally:
                pg.resume()
            recovers(server)

            rd.stall()  # Redis stalls: issuing goes on (the limits count in memory meanwhile)
            try:
                for _ in range(3):
                    r, took = server.issue()
                    assert r.status_code == 201 and took < BOUND_S, (r.status_code, took)
                health = requests.get(f"{server.url}/healthz", timeout=30)
                assert health.status_code == 503 and health.json()["error"]["details"]["redis"]["ok"] is False
            finally:
                rd.resume()
            rd.reset()
            wait_until(lambda: requests.get(f"{server.url}/healthz", timeout=10).status_code == 200, timeout=15,
                       what="/healthz to see Redis again")
            count = load.count()
            wait_until(lambda: load.count() >= count + 20, timeout=30, what="the load to go on")
        loaded_failures_are_503s(load)
        assert server.alive()
    assert_tickets_survived(load.created, pg_url)


def gunicorn_workers(server: Server) -> list[int]:
    """The gevent worker of each gunicorn master under `motcua serve --workers N`."""
    masters = [int(p) for p in Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()]
    return [pid for m in masters for pid in process_tree(m)[1:]]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_killed_during_a_database_outage_comes_back(pg_url: str, redis_url: str, tmp_path: Path, servers) -> None:
    with TcpProxy(upstream(pg_url)) as pg:
        url = through(pg_url, pg)
        server = Server(tmp_path, url, populated(url, tmp_path), env={"REDIS_URL": redis_url}, workers=2).start()
        servers.append(server)
        before = [recovers(server, u) for u in server.urls]
        pg.drop()
        try:
            assert_unavailable(*server.issue())
            victim = gunicorn_workers(server)[0]
            os.kill(victim, signal.SIGKILL)
            # gunicorn starts a new worker; it must boot without the database, and the set stay up.
            wait_until(lambda: len(w := gunicorn_workers(server)) == 2 and victim not in w, timeout=30, what="a new worker")
            for u in server.urls:
                wait_until(lambda u=u: server._answers(u, ok_only=False), timeout=30, what=f"{u} to answer during the outage")
                assert_unavailable(*server.issue(url=u))
            time.sleep(2)  # a worker that crashed at start would have ended the set by now
            assert server.alive(), server.output()[-3000:]
        finally:
            pg.resume()
        after = [recovers(server, u) for u in server.urls]
    assert_tickets_survived(before + after, pg_url)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_server_started_with_its_database_down_serves_and_prints_once_it_is_up(pg_url: str, tmp_path: Path, servers) -> None:
    from motcua.engine import tickets
    from motcua.models import Device, PrintJob

    with TcpProxy(upstream(pg_url)) as pg:
        url = through(pg_url, pg)
        demos = populated(url, tmp_path)
        # A ticket whose print job a crash left pending: the new server's spooler must print it.
        app = create_app(DEMO_CONFIG, database_url=pg_url, instance=tmp_path / "setup", plugins=False)
        db = app.extensions["motcua"].db
        with db.write() as s:
            kiosk = s.query(Device).filter(Device.name.startswith("Kiosk")).order_by(Device.id).first()
            issued = tickets.issue_ticket(s, kiosk.office_id, "CT", device_id=kiosk.id)
        with db.read() as s:
            job_id = s.query(PrintJob.id).filter(PrintJob.ticket_id == issued.id).scalar()
        assert job_id is not None

        pg.drop()
        server = Server(tmp_path, url, demos)
        servers.append(server)
        try:
            server.start(wait_ok=False)  # it starts, and answers 503 while the database is down
            assert_unavailable(*server.issue())
            time.sleep(2)
            assert server.alive(), server.output()[-3000:]
        finally:
            pg.resume()
        ticket = recovers(server, bound=10)  # the first connections are made now
        assert ticket["number"] == 2

        def printed() -> bool:
            with db.read() as s:
                return s.get(PrintJob, job_id).status == "printed"

        wait_until(printed, timeout=30, what="the pending print job to be printed once the database answered")
        db.dispose()
    assert_tickets_survived([ticket], pg_url)


# ---- SQLite on a file system that fills up, files that turn unwritable ----------------------


def root_tool(tool: str) -> None:
    if os.geteuid() != 0 or not shutil.which(tool):
        skip_or_fail(f"this fault needs root and {tool}")


@contextmanager
def small_filesystem(path: Path, size_mb: int):
    root_tool("mount")
    path.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)], capture_output=True).returncode != 0:
        skip_or_fail("cannot mount a tmpfs here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextmanager
def immutable(paths: list[Path]):
    """Files no one may write, root included (chattr +i): what a read-only database, -wal and
    -shm are to the server. A store into the mapped -shm then faults (SIGBUS)."""
    root_tool("chattr")
    present = [str(p) for p in paths if p.exists()]
    if subprocess.run(["chattr", "+i", *present], capture_output=True).returncode != 0:
        skip_or_fail("chattr +i does not work on this file system")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *present], capture_output=True)


def fill(path: Path) -> Path:
    filler = path / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def health(server: Server) -> requests.Response:
    return requests.get(f"{server.url}/healthz", timeout=15)


@pytest.mark.slow
def test_a_full_disk_shows_in_healthz_and_issuing_recovers(tmp_path: Path, sqlite_templates, servers) -> None:
    db_file, secret, demos = sqlite_templates(DEMO_CONFIG)
    with small_filesystem(tmp_path / "small", 16) as fs:
        shutil.copy(db_file, fs / "motcua.db")
        server = Server(tmp_path, f"sqlite:///{fs}/motcua.db", demos)
        shutil.copy(secret, server.instance / "secret_key")
        servers.append(server.start())
        created = [recovers(server)]
        filler = fill(fs)  # reads still work, writes cannot: /healthz must say so
        try:
            wait_until(lambda: health(server).status_code == 503, timeout=15, what="/healthz to report the full disk")
            body = health(server).json()["error"]
            assert body["details"]["writes"]["ok"] is False and body["details"]["database"]["ok"] is True
            assert "ghi" in body["message"] and "write" in body["message_en"]
            for _ in range(3):
                r, took = server.issue()
                assert r.status_code in (201, 503) and took < BOUND_S, (r.status_code, r.text[:300])
                if r.status_code == 201:
                    created.append(r.json())
        finally:
            filler.unlink()
        wait_until(lambda: health(server).status_code == 200, timeout=15, what="/healthz to see writes work again")
        created.append(recovers(server))
        server.stop()
        assert_tickets_survived(created, f"sqlite:///{fs}/motcua.db")


@pytest.mark.slow
def test_unwritable_sqlite_files_give_503s_never_a_crash(tmp_path: Path, sqlite_templates, servers) -> None:
    db_file, secret, demos = sqlite_templates(DEMO_CONFIG)
    server = Server(tmp_path, "", demos)
    path = server.instance / "motcua.db"
    server.env["DATABASE_URL"] = f"sqlite:///{path}"
    shutil.copy(db_file, path)
    shutil.copy(secret, server.instance / "secret_key")
    servers.append(server.start())
    created = [recovers(server)]
    worker = gunicorn_workers(server)
    with immutable([path, Path(f"{path}-wal"), Path(f"{path}-shm")]):
        for _ in range(3):
            assert_unavailable(*server.issue())
        for page in ("/kiosk/", "/api/v1/services"):
            r = requests.get(server.url + page, timeout=15)
            assert r.status_code == 503 and "Hệ thống tạm thời gián đoạn" in r.text, (page, r.status_code)
        assert health(server).status_code == 503
        time.sleep(1)  # the checkpointer's turn too
        assert gunicorn_workers(server) == worker, "the worker died (SIGBUS) instead of answering 503"
    created.append(recovers(server))
    assert "Traceback" not in server.output()
    server.stop()
    assert_tickets_survived(created, f"sqlite:///{path}")


# ---- the proxy itself ---------------------------------------------------------------------


@pytest.mark.redis
def test_the_proxy_stalls_resets_and_drops(redis_url: str) -> None:
    import socket

    def ping(sock: socket.socket) -> bytes:
        sock.sendall(b"PING\r\n")
        return sock.recv(64)

    with TcpProxy(upstream(redis_url)) as proxy:
        sock = socket.create_connection((proxy.host, proxy.port), timeout=1)
        assert ping(sock) == b"+PONG\r\n"
        proxy.stall()
        with pytest.raises(TimeoutError):
            ping(sock)
        proxy.resume()  # what was held arrives
        assert sock.recv(64) == b"+PONG\r\n"
        proxy.reset()
        with pytest.raises(ConnectionError):
            ping(sock) or ping(sock)
        sock.close()
        proxy.drop()
        with pytest.raises(ConnectionError), socket.create_connection((proxy.host, proxy.port), timeout=1) as sock:
            ping(sock) or ping(sock)
        proxy.resume()
        with socket.create_connection((proxy.host, proxy.port), timeout=1) as sock:
            assert ping(sock) == b"+PONG\r\n"
