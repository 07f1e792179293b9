"""Faults with real processes: the server killed with SIGKILL under load, PostgreSQL stopped
and started under a running server, Redis stopped and started under two running servers.

These tests stop and start this machine's PostgreSQL and Redis, so they need to be root (or
skip, with the reason); whatever happens, the services are started again in `finally`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.support.displays import WAIT, Display, as_displayed
from tests.support.env import skip_or_fail
from tests.support.faults import FIELDS, Load, process_tree, tickets_in_db
from tests.support.live import LiveServer
from tests.support.waiting import wait_until

NO_LIMITS = {"MOTCUA_ISSUE_LIMIT_DEVICE": "off", "MOTCUA_ISSUE_LIMIT_ADDRESS": "off", "MOTCUA_DAYEND": "off"}
PROD = {**NO_LIMITS, "MOTCUA_PROD": "1"}


# ---- helpers ------------------------------------------------------------------------------


def kill_hard(server: LiveServer) -> None:
    """SIGKILL the server and every process under it (gunicorn's master and its worker)."""
    for pid in reversed(process_tree(server.process.pid)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait(10)


# ---- SIGKILL under load ----------------------------------------------------------------


def killed_under_load(server: LiveServer, db_url: str) -> None:
    demo = server.demo
    with Load(server.url, demo.kiosk) as load:
        wait_until(lambda: load.count() >= 80, timeout=60, what="80 tickets issued under load")
        kill_hard(server)
        before_kill = load.count()
        time.sleep(0.3)  # requests keep coming at a dead server
    answered = list(load.created)
    assert len(answered) >= before_kill >= 80
    assert set(load.failures) <= {"ConnectionError", "ChunkedEncodingError", "ReadTimeout"}, dict(load.failures)

    rows = tickets_in_db(db_url)
    in_db = {public_id: (code, number) for code, number, public_id in rows}
    for t in answered:  # every 201 is in the database, with the number the citizen was given
        assert in_db.get(t["public_id"]) == (t["service"], t["number"]), t
    by_field: defaultdict[str, list[int]] = defaultdict(list)
    for code, number, _ in rows:
        by_field[code].append(number)
    for code, numbers in by_field.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{code}: duplicate or missing numbers after the crash"

    server.start()
    for code in FIELDS:  # the series goes on where the database left it
        r = requests.post(f"{server.url}/api/v1/tickets", json={"service": code}, headers=demo.kiosk, timeout=10)
        assert r.status_code == 201, r.text
        assert r.json()["number"] == max(by_field[code], default=0) + 1


@pytest.mark.slow
def test_sigkill_under_load_on_sqlite(live_server_factory) -> None:
    server = live_server_factory(extra_env=NO_LIMITS)
    killed_under_load(server, server.env["DATABASE_URL"])


@pytest.mark.slow
@pytest.mark.postgres
def test_sigkill_under_load_on_postgresql_under_gunicorn(pg_url: str, live_server_factory) -> None:
    # (pg_url first: its database is dropped after the server has stopped)
    server = live_server_factory(database_url=pg_url, extra_env=PROD)
    killed_under_load(server, pg_url)


# ---- PostgreSQL stopped and started ------------------------------------------------------


def pg_cluster() -> tuple[str, str]:
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        skip_or_fail("stopping PostgreSQL needs root and pg_ctlcluster")
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
    if not versions:
        skip_or_fail("no PostgreSQL cluster under /etc/postgresql")
    return versions[-1], "main"


def pg_ctl(version: str, cluster: str, action: str) -> None:
    args = ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, action]
    if action == "stop":
        args += ["-m", "fast"]
    subprocess.run(args, check=True, capture_output=True, timeout=60)


def pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], timeout=10).returncode == 0


@pytest.fixture
def pg_url_surviving_restarts(pg_server: str):
    """Like conftest's pg_url, with an admin engine that pings its connections: the one it
    would reuse to drop the database did not survive the restart."""
    name = f"motcua_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as c:
        c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_restart_gives_503_then_recovers_without_a_restart(pg_url_surviving_restarts: str, live_server_factory) -> None:
    pg_url = pg_url_surviving_restarts
    version, cluster = pg_cluster()
    server = live_server_factory(database_url=pg_url, extra_env=PROD)
    demo = server.demo
    kiosk = demo.kiosk
    first = requests.post(f"{server.url}/api/v1/tickets", json={"service": "CT"}, headers=kiosk, timeout=10)
    assert first.status_code == 201
    answers: list[requests.Response] = []
    pages: list[requests.Response] = []
    try:
        pg_ctl(version, cluster, "stop")
        # During the outage: a clear 503 in both languages, never a 500, for every kind of caller.
        calls = [
            ("POST", "/api/v1/tickets", kiosk, {"service": "CT"}),
            ("GET", "/api/v1/services", {}, None),
            ("GET", "/api/v1/queue", demo.device_headers("Màn hình sảnh"), None),
            ("POST", "/api/v1/counters/2/next", demo.clerk(2).headers, None),
            ("GET", f"/api/v1/tickets/{first.json()['public_id']}", {}, None),
        ]
        for _ in range(2):
            for method, path, headers, body in calls:
                answers.append(requests.request(method, server.url + path, headers=headers, json=body, timeout=30))
        health = requests.get(f"{server.url}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["error"]["details"]["database"]["ok"] is False
        # Pages read the database too: the kiosk, the citizen's ticket page and its QR code.
        public_id = first.json()["public_id"]
        pages = [requests.get(server.url + path, timeout=30) for path in ("/kiosk/", f"/t/{public_id}", f"/kiosk/qr/{public_id}.svg")]
    finally:
        pg_ctl(version, cluster, "start")
        wait_until(pg_ready, timeout=60, what="PostgreSQL to accept connections again")
    for r in answers:
        assert r.status_code == 503, (r.request.method, r.request.url, r.status_code, r.text[:300])
        err = r.json()["error"]
        assert err["code"] == "database_unavailable" and err["message"].startswith("Hệ thống tạm thời gián đoạn") and err["message_en"]
    for page in pages:
        assert page.status_code == 503, (page.url, page.status_code)
        assert "Hệ thống tạm thời gián đoạn" in page.text and "briefly unavailable" in page.text
    assert server.process.poll() is None  # the same process, never restarted

    def issued() -> bool:
        r = requests.post(f"{server.url}/api/v1/tickets", json={"service": "CT"}, headers=kiosk, timeout=10)
        assert r.status_code in (201, 503), r.text
        return r.status_code == 201 and r.json()["number"] == 2

    wait_until(issued, timeout=30, what="issuing to work again")
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200


# ---- Redis stopped and started ------------------------------------------------------------

REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def redis_up() -> bool:
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, text=True, timeout=5).stdout.strip() == "PONG"


def redis_control() -> None:
    if os.geteuid() != 0 or not shutil.which("redis-server") or not shutil.which("redis-cli"):
        skip_or_fail("stopping Redis needs root, redis-server and redis-cli")
    if not Path("/var/lib/redis").is_dir():
        skip_or_fail("/var/lib/redis is missing: cannot restart Redis as CI does")


def restart_redis() -> None:
    if not redis_up():
        Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
        subprocess.run(REDIS_START, check=True, capture_output=True, timeout=30)
    wait_until(redis_up, timeout=30, what="Redis to answer again")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_redis_restart_displays_recover_their_state(pg_url: str, redis_url: str, live_server_factory) -> None:
    redis_control()
    env = {**PROD, "REDIS_URL": redis_url}
    a = live_server_factory(database_url=pg_url, extra_env=env)
    b = live_server_factory(database_url=pg_url, extra_env=env, populate_db=False)
    demo = a.demo
    clerk = demo.clerk(2).headers
    hall = demo.device_headers("Màn hình sảnh")

    def post(server: LiveServer, path: str, headers: dict, body: dict | None = None) -> dict:
        r = requests.post(server.url + path, json=body, headers=headers, timeout=15)
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r.json()

    displays = [Display().connect(a.url, demo.devices["Màn hình sảnh"]), Display().connect(b.url, demo.devices["Màn hình sảnh"])]
    try:
        t = post(b, "/api/v1/tickets", demo.kiosk, {"service": "CT"})
        post(b, "/api/v1/counters/2/next", clerk)
        wait_until(lambda: all(d.heard(t["code"]) for d in displays), timeout=WAIT, what="the call before the outage")
        try:
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, timeout=10)
            wait_until(lambda: not redis_up(), timeout=10, what="Redis to stop")
            # The office goes on while Redis is down: issuing and calling never depend on it.
            post(b, "/api/v1/counters/2/start", clerk)
            missed = [post(server, "/api/v1/tickets", demo.kiosk, {"service": "CT"}) for server in (a, b, a)]
            post(a, "/api/v1/counters/2/next", clerk)
            assert requests.get(f"{a.url}/healthz", timeout=15).status_code == 503
        finally:
            restart_redis()
        assert missed and a.process.poll() is None and b.process.poll() is None

        def caught_up() -> bool:
            """A display learns of missed changes from the next one (a gap asks for a snapshot)."""
            expected = requests.get(f"{a.url}/api/v1/queue", headers=hall, timeout=10).json()
            if all(d.state["seq"] == expected["seq"] and as_displayed(d.state) == as_displayed(expected) for d in displays):
                return True
            requests.post(f"{b.url}/api/v1/tickets", json={"service": "XH"}, headers=demo.kiosk, timeout=10)
            time.sleep(0.5)
            return False

        wait_until(caught_up, timeout=60, what="both displays to catch up with the server after Redis came back")
        assert all(d.snapshots >= 2 for d in displays)  # recovered through a fresh snapshot
        assert requests.get(f"{a.url}/healthz", timeout=10).status_code == 200
    finally:
        for d in displays:
            d.close()
