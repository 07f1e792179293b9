"""Production mode: `motcua serve --prod` (gunicorn + gevent), its refusals, /healthz and
/metrics, and the printer spooler under gevent."""

from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import func, select, update

from motcua import production
from motcua.cli import main
from motcua.models import PrintJob
from tests.support.env import DEMO_CONFIG, REPO, free_port
from tests.support.live import LiveServer

# ---- the command -----------------------------------------------------------------------


def run_cli(tmp_path: Path, *args: str, env: dict | None = None):
    base = {"MOTCUA_CONFIG": str(DEMO_CONFIG), "MOTCUA_INSTANCE": str(tmp_path / "instance"), "REDIS_URL": "", "DATABASE_URL": ""}
    return CliRunner().invoke(main, list(args), env={**base, **(env or {})}, catch_exceptions=False)


def test_several_workers_without_redis_are_refused_in_both_languages(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", "--prod", "--workers", "2")
    assert result.exit_code == 2
    assert "Chạy nhiều tiến trình cần Redis" in result.output and "Several processes need Redis" in result.output
    assert "REDIS_URL" in result.output
    # The same through the environment, as a systemd unit would set it.
    result = run_cli(tmp_path, "serve", env={"MOTCUA_PROD": "1", "MOTCUA_WORKERS": "3"})
    assert result.exit_code == 2 and "Several processes need Redis" in result.output


def test_workers_need_prod_and_must_be_positive(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", "--workers", "2")
    assert result.exit_code == 2 and "--workers needs --prod" in result.output
    result = run_cli(tmp_path, "serve", "--prod", "--workers", "0")
    assert result.exit_code == 2 and "--workers must be 1 or more" in result.output


def test_gunicorn_command_is_one_gevent_worker_per_port() -> None:
    argv = production.gunicorn_argv("127.0.0.1", 8100)
    joined = " ".join(argv)
    assert f"--worker-class {production.WORKER_CLASS} --workers 1" in joined and "--bind 127.0.0.1:8100" in joined
    assert argv[-1] == "motcua.wsgi:app" and int(argv[argv.index("--worker-connections") + 1]) >= 5000
    assert production.ports(8100, 3) == [8100, 8101, 8102]
    assert production.check(3, {"redis_url": "redis://x", "database_url": "postgresql+psycopg://h/db"}) == []
    assert "SQLite" in production.check(2, {"redis_url": "redis://x", "database_url": "sqlite:///m.db"})[0]


# ---- a gunicorn + gevent server ----------------------------------------------------------


def printer_config(tmp_path: Path, connection: str, target: str, timeout: float) -> Path:
    """The demo office with its kiosk printing through `connection` to `target`."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r'connection = "preview"\ntarget = "previews"', f'connection = "{connection}"\ntarget = "{target}"\ntimeout = {timeout:g}', text, count=1)
    assert target in text
    # The test printer listens on an ephemeral loopback port; a file printer writes in tmp_path.
    text = text.split("\n[printer_targets]")[0] + f'\n[printer_targets]\nports = ["1024-65535"]\ndevice_paths = ["{glob.escape(os.path.realpath(tmp_path))}/*"]\n'
    path = tmp_path / f"{connection}-printer.toml"
    path.write_text(text, encoding="utf-8")
    return path


def job_status(server: LiveServer, job: int) -> str:
    r = requests.get(f"{server.url}/kiosk/api/print-jobs/{job}", headers=server.demo.kiosk, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["status"]


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def a_job_stuck_while_the_process_serves(server: LiveServer) -> int:
    """Issue a ticket whose printer does not take it, and show that the same process still
    answers everyone else while the spooler waits; returns the stuck job's id."""
    r = requests.post(f"{server.url}/api/v1/tickets", json={"service": "HT"}, headers=server.demo.kiosk, timeout=10)
    assert r.status_code == 201, r.text
    job = r.json()["print_job"]
    wait_for(lambda: job_status(server, job) == "printing", what="the spooler to take the job")
    for _ in range(5):
        assert requests.get(f"{server.url}/api/v1/services", timeout=5).status_code == 200
        assert requests.post(f"{server.url}/api/v1/tickets", json={"service": "CT"}, headers=server.demo.kiosk, timeout=5).status_code == 201
    assert job_status(server, job) == "printing"
    return job


def final_status(server: LiveServer, job: int) -> str:
    return wait_for(lambda: (s := job_status(server, job)) in ("printed", "failed", "dropped") and s, what="the job to finish")


@pytest.mark.slow
def test_prod_server_runs_gevent_and_prints_cooperatively(live_server_factory, escpos_sink, tmp_path: Path) -> None:
    """Under gevent the spooler's threads are greenlets: a printer that accepts and never
    answers must not stop the process from serving everyone else."""
    config = printer_config(tmp_path, "network", escpos_sink.target, 2)
    server = live_server_factory(config=config, extra_env={"MOTCUA_PROD": "1", "MOTCUA_DAYEND": "off"})
    health = requests.get(f"{server.url}/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["realtime"] == "gevent" and health["checks"]["database"]["ok"]
    assert "redis" not in health["checks"]  # none configured
    assert "gunicorn" in server.log.read_text(errors="replace")

    escpos_sink.set_mode("hang")
    job = a_job_stuck_while_the_process_serves(server)
    escpos_sink.set_mode("ok")
    assert final_status(server, job) == "printed"
    assert escpos_sink.wait_job(timeout=10).payload.startswith(b"\x1b@")


@pytest.mark.slow
@pytest.mark.redis
def test_two_workers_serve_on_consecutive_ports_and_stop_together(tmp_path: Path, redis_url: str, sqlite_templates) -> None:
    import shutil

    db_file, secret, _ = sqlite_templates(DEMO_CONFIG)
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(db_file, instance / "motcua.db")
    shutil.copy(secret, instance / "secret_key")
    port = free_port()
    while True:  # two free ports side by side
        try:
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
            break
        except OSError:
            port = free_port()
    env = {**os.environ, "MOTCUA_CONFIG": str(DEMO_CONFIG), "MOTCUA_INSTANCE": str(instance), "DATABASE_URL": f"sqlite:///{instance}/motcua.db",
           "REDIS_URL": redis_url, "MOTCUA_HOST": "127.0.0.1", "MOTCUA_PORT": str(port), "MOTCUA_DAYEND": "off"}
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "serve", "--prod", "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        def both_up() -> bool:
            try:
                return all(requests.get(f"http://127.0.0.1:{p}/healthz", timeout=1).status_code == 200 for p in (port, port + 1))
            except requests.RequestException:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
                return False

        wait_for(both_up, timeout=60, what="both processes")
        for p in (port, port + 1):
            body = requests.get(f"http://127.0.0.1:{p}/healthz", timeout=5).json()
            assert body["checks"]["redis"]["ok"] and body["realtime"] == "gevent"
        output = (tmp_path / "serve.log").read_text(errors="replace")
        assert "SQLite" in output  # the warning: fine for a test, PostgreSQL for a province
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        for p in (port, port + 1):
            with pytest.raises(requests.ConnectionError):
                requests.get(f"http://127.0.0.1:{p}/healthz", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


# ---- /healthz ---------------------------------------------------------------------------


def test_healthz_ok(client) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.json["status"] == "ok" and r.json["checks"]["database"]["ok"] is True
    assert r.json["realtime"] == "threading"


def test_healthz_503_when_the_database_is_unreachable(make_app, tmp_path: Path) -> None:
    from motcua.app import create_app

    app = create_app(DEMO_CONFIG, database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere",
                     instance=tmp_path / "down", testing=True, plugins=False)
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    err = r.json["error"]
    assert err["code"] == "unhealthy" and "cơ sở dữ liệu" in err["message"] and "database" in err["message_en"]
    assert err["details"]["database"] == {"ok": False, "error": "OperationalError"}
    assert "127.0.0.1" not in r.get_data(as_text=True)  # no connection strings on a public page


def test_healthz_503_when_redis_is_unreachable(tmp_path: Path, monkeypatch, sqlite_templates) -> None:
    import shutil

    from motcua.app import create_app

    db_file, secret, _ = sqlite_templates(DEMO_CONFIG)
    (tmp_path / "i").mkdir()
    shutil.copy(db_file, tmp_path / "i" / "motcua.db")
    shutil.copy(secret, tmp_path / "i" / "secret_key")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(DEMO_CONFIG, database_url=f"sqlite:///{tmp_path}/i/motcua.db", instance=tmp_path / "i", testing=True, plugins=False)
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.json["error"]["details"]["database"]["ok"] is True
    assert r.json["error"]["details"]["redis"]["ok"] is False and "Redis" in r.json["error"]["message"]


@pytest.mark.redis
def test_healthz_checks_redis_when_configured(tmp_path: Path, monkeypatch, redis_url: str, sqlite_templates) -> None:
    import shutil

    from motcua.app import create_app

    db_file, secret, _ = sqlite_templates(DEMO_CONFIG)
    (tmp_path / "i").mkdir()
    shutil.copy(db_file, tmp_path / "i" / "motcua.db")
    shutil.copy(secret, tmp_path / "i" / "secret_key")
    monkeypatch.setenv("REDIS_URL", redis_url)
    app = create_app(DEMO_CONFIG, database_url=f"sqlite:///{tmp_path}/i/motcua.db", instance=tmp_path / "i", testing=True, plugins=False)
    r = app.test_client().get("/healthz")
    assert r.status_code == 200 and r.json["checks"]["redis"]["ok"] is True


# ---- /metrics -----------------------------------------------------------------------------


def scrape(client, **kwargs) -> dict[str, float]:
    r = client.get("/metrics", **kwargs)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.content_type.startswith("text/plain")
    values = {}
    for line in r.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_read_the_database(client, demo, db) -> None:
    for code in ("HT", "HT", "CT"):
        assert client.post("/api/v1/tickets", json={"service": code}, headers=demo.kiosk).status_code == 201
    r = client.post("/api/v1/counters/1/next", headers=demo.clerk(1).headers)
    assert r.status_code == 200 and r.json["ticket"]["code"] == "A001"
    def spooler_done() -> bool:
        with db.read() as s:
            return not s.scalar(select(func.count()).select_from(PrintJob).where(PrintJob.status.in_(("pending", "printing"))))

    wait_for(spooler_done, what="the preview printer")
    with db.write() as s:  # the first print job failed, as the spooler would record it
        s.execute(update(PrintJob).where(PrintJob.id == s.scalar(select(func.min(PrintJob.id)))).values(status="failed"))
    m = scrape(client)
    assert m['motcua_tickets_issued_total{field="HT",office="demo"}'] == 2
    assert m['motcua_tickets_issued_total{field="CT",office="demo"}'] == 1
    assert m['motcua_waiting{field="HT",office="demo"}'] == 1 and m['motcua_waiting{field="CT",office="demo"}'] == 1
    assert m['motcua_waiting{field="DD",office="demo"}'] == 0
    assert m['motcua_counters{office="demo",status="open"}'] == 1
    assert m['motcua_call_latency_seconds_count{action="next"}'] == 1
    assert m['motcua_call_latency_seconds_bucket{action="next",le="+Inf"}'] == 1
    assert m['motcua_print_failures_total{office="demo",outcome="failed",printer="kiosk-sanh"}'] == 1
    assert m["motcua_database_up"] == 1


def test_metrics_are_not_public(client, monkeypatch) -> None:
    # Through a proxy (even one on this machine), from another address, or with a wrong token.
    r = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden" and "MOTCUA_METRICS_TOKEN" in r.json["error"]["message_en"]
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 401
    monkeypatch.setenv("MOTCUA_METRICS_TOKEN", "s3cret-metrics-token")
    headers = {"Authorization": "Bearer s3cret-metrics-token"}
    assert "motcua_database_up" in scrape(client, headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-tokeN"}, environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 401


def test_full_collections_freeze_what_survives_and_the_refresh_reclaims_frozen_cycles() -> None:
    """production.keep_full_collections_short, in a process of its own (it changes the collector
    for the whole process): after a full pass its survivors are frozen, later passes leave them
    alone, and the periodic refresh still reclaims a cycle that died while frozen."""
    script = """
import gc, weakref
import gevent
from motcua.production import keep_full_collections_short

class Node:
    pass

keep_full_collections_short(0.3)
node = Node()
node.me = node  # a cycle: only the collector can reclaim it
ref = weakref.ref(node)
gc.collect()
assert gc.get_freeze_count() > 0, "nothing frozen after a full pass"
del node
gc.collect()
assert ref() is not None, "a frozen object was walked by a full pass"
gevent.sleep(1)
assert ref() is None, "the refresh did not reclaim the frozen cycle"
assert gc.get_freeze_count() > 0, "nothing frozen after the refresh"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


@pytest.mark.slow
def test_prod_server_serves_on_while_a_device_file_printer_blocks(live_server_factory, tmp_path: Path) -> None:
    """A printer on a device file (/dev/usb/lp0) or USB blocks in the kernel, where gevent cannot
    switch: such writes run on gevent's thread pool, so the process serves on meanwhile. Here the
    device is a FIFO that nobody reads yet: opening it for writing blocks until someone does."""
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    config = printer_config(tmp_path, "file", str(fifo), 20)
    server = live_server_factory(config=config, extra_env={"MOTCUA_PROD": "1", "MOTCUA_DAYEND": "off"})

    job = a_job_stuck_while_the_process_serves(server)
    received = bytearray()
    with open(fifo, "rb") as device:  # the printer comes on: the blocked write goes through
        reader = threading.Thread(target=lambda: received.extend(device.read()), daemon=True)
        reader.start()
        final = final_status(server, job)
        reader.join(10)
    assert final == "printed"
    assert bytes(received).startswith(b"\x1b@")
