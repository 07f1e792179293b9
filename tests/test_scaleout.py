"""Scale-out: two `motcua serve --prod` processes (gunicorn + gevent) on different ports share
one PostgreSQL database and one Redis. Tickets issued concurrently through both stay unique
and gap-free; a display connected to one process hears a call made through the other;
metrics and rate limits count across processes."""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.support.demo import Demo
from tests.support.displays import WAIT, Display, as_displayed
from tests.support.env import DEMO_CONFIG
from tests.support.waiting import wait_until

NS = "/display"


def issue(url: str, demo: Demo, service: str) -> requests.Response:
    return requests.post(f"{url}/api/v1/tickets", json={"service": service}, headers=demo.kiosk, timeout=30)


PROD_ENV = {"MOTCUA_PROD": "1", "MOTCUA_DAYEND": "off", "MOTCUA_ISSUE_LIMIT_DEVICE": "off", "MOTCUA_ISSUE_LIMIT_ADDRESS": "off"}


@pytest.fixture
def two_processes(pg_url: str, redis_url: str, live_server_factory, tmp_path: Path):
    """Two gunicorn + gevent processes on one PostgreSQL database and one Redis, sharing a
    prometheus multiprocess folder as the processes of one service do. (The database fixture
    comes first so that it is dropped after the servers have stopped.)"""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {**PROD_ENV, "REDIS_URL": redis_url, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    a = live_server_factory(database_url=pg_url, extra_env=env)
    b = live_server_factory(database_url=pg_url, extra_env=env, populate_db=False)
    b.demos = a.demos
    yield a, b
    shutil.rmtree(metrics_dir, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_two_processes_share_numbering_displays_and_metrics(two_processes, pg_url: str) -> None:
    a, b = two_processes
    demo = a.demo
    for server in (a, b):
        health = requests.get(f"{server.url}/healthz", timeout=10).json()
        assert health["realtime"] == "gevent" and health["checks"]["redis"]["ok"]

    # 2 x 200 tickets, 8 threads per process, over three fields.
    fields = ("CT", "KD", "XH")
    jobs = [(server.url, fields[i % 3]) for i in range(200) for server in (a, b)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda job: issue(job[0], demo, job[1]), jobs))
    assert [r.status_code for r in answers] == [201] * 400, {r.status_code for r in answers}
    by_field: dict[str, list[int]] = defaultdict(list)
    for r in answers:
        by_field[r.json()["service"]].append(r.json()["number"])
    for field, numbers in by_field.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{field}: numbers must be unique and gap-free"
    engine = create_engine(pg_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT s.code, t.number FROM tickets t JOIN services s ON s.id = t.series_id")).all()
    engine.dispose()
    assert sorted(rows) == sorted((f, n) for f, ns in by_field.items() for n in ns)

    # A display on process A hears the call made through process B, and the other way round.
    on_a = Display().connect(a.url, demo.devices["Màn hình sảnh"])
    on_b = Display().connect(b.url, demo.devices["Màn hình sảnh"])
    try:
        called = requests.post(f"{b.url}/api/v1/counters/2/next", headers=demo.clerk(2).headers, timeout=10).json()["ticket"]
        wait_until(lambda: on_a.heard(called["code"]), timeout=WAIT, what="process A's display to hear B's call")
        requests.post(f"{b.url}/api/v1/counters/2/start", headers=demo.clerk(2).headers, timeout=10)
        other = requests.post(f"{a.url}/api/v1/counters/4/next", headers=demo.clerk(4).headers, timeout=10).json()["ticket"]
        wait_until(lambda: on_b.heard(other["code"]), timeout=WAIT, what="process B's display to hear A's call")
        # Both end in the state either process serves.
        expected = requests.get(f"{a.url}/api/v1/queue", headers=demo.device_headers("Màn hình sảnh"), timeout=10).json()
        for display in (on_a, on_b):
            wait_until(lambda d=display: d.state["seq"] == expected["seq"], timeout=WAIT, what="the display to reach the server's sequence")
            with display.lock:
                assert as_displayed(display.state) == as_displayed(expected)
    finally:
        on_a.close()
        on_b.close()

    # Metrics from either process count everything: the database's, and both processes' call latencies.
    for server in (a, b):
        text_ = requests.get(f"{server.url}/metrics", timeout=10).text
        issued = sum(float(line.rsplit(" ", 1)[1]) for line in text_.splitlines() if line.startswith("motcua_tickets_issued_total{"))
        assert issued == 400
        assert 'motcua_call_latency_seconds_count{action="next"} 2.0' in text_


@pytest.mark.redis
def test_rate_limits_count_across_processes(make_app, redis_url: str, monkeypatch, tmp_path: Path) -> None:
    """Two apps (as two processes) on one database and one Redis share the issuing limit."""
    from motcua.app import create_app

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_DEVICE", "4/minute")
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_ADDRESS", "off")
    first, demos = make_app()
    url = first.extensions["motcua"].settings["database_url"]
    second = create_app(DEMO_CONFIG, database_url=url, instance=tmp_path / "second-process", testing=True, plugins=False)
    kiosk = demos["demo"].kiosk
    codes = [app.test_client().post("/api/v1/tickets", json={"service": "CT"}, headers=kiosk).status_code for app in [first, second] * 3]
    assert codes == [201, 201, 201, 201, 429, 429]
    second.extensions["motcua"].db.dispose()


def test_two_deployments_on_one_redis_never_hear_each_other(redis_url: str, live_server_factory) -> None:
    """Two offices' servers (each its own database) share a Redis: both demo offices have office
    id 1, so on a shared Socket.IO channel one's hall would announce the other's calls."""
    env = {"REDIS_URL": redis_url, "MOTCUA_DAYEND": "off"}
    a, b = live_server_factory(extra_env=env), live_server_factory(extra_env=env)
    on_a = Display().connect(a.url, a.demo.devices["Màn hình sảnh"])
    on_b = Display().connect(b.url, b.demo.devices["Màn hình sảnh"])
    try:
        assert issue(a.url, a.demo, "CT").status_code == 201
        called = requests.post(f"{a.url}/api/v1/counters/2/next", headers=a.demo.clerk(2).headers, timeout=10).json()["ticket"]
        wait_until(lambda: on_a.heard(called["code"]), timeout=WAIT, what="A's display to hear A's call")
        time.sleep(1.0)  # B's display would have heard it by now, through Redis
        with on_b.lock:
            assert on_b.calls == [] and on_b.state["recent_calls"] == []
    finally:
        on_a.close()
        on_b.close()
