"""Printers never reach outside the allow-list ([printer_targets] in config.toml), whoever set
them up: a `file` printer pointed at the database, the secret key or config.toml leaves them
as they were, and a `network` printer outside the allowed ports or address ranges is never
connected to. The refusal is recorded on the print job and the printer's health."""

from __future__ import annotations

import glob
import os
import socket
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from motcua.config import PrinterTargetsConfig
from motcua.models import Printer, PrintJob
from motcua.printer_targets import Allowlist, admit, check_target
from printers.connections import query_status, send
from printers.spec import PrinterSpec, TargetNotAllowed
from tests.support.env import DEMO_CONFIG


def config_with_targets(tmp_path: Path, section: str) -> Path:
    path = tmp_path / "targets.toml"
    demo = DEMO_CONFIG.read_text(encoding="utf-8").split("\n[printer_targets]")[0]  # defaults, then section
    path.write_text(demo + "\n[printer_targets]\n" + section, encoding="utf-8")
    return path


def wide_paths(tmp_path: Path) -> str:
    """An allow-list so wide that it covers the instance folder and the config file."""
    root = glob.escape(os.path.realpath(tmp_path))
    return f'device_paths = ["{root}/*", "{root}/*/*"]\n'


def point_kiosk_printer(app, connection: str, target: str) -> None:
    """What a manager's edit of the printer page does: the kiosk's printer gets a new target."""
    with app.extensions["motcua"].db.write() as s:
        printer = s.scalar(select(Printer).where(Printer.name == "kiosk-sanh"))
        printer.connection, printer.target = connection, target


def issue_and_wait(app, demos) -> PrintJob:
    r = app.test_client().post("/api/v1/tickets", json={"service": "HT"}, headers=demos["demo"].kiosk)
    assert r.status_code == 201, r.get_json()
    job_id = r.get_json()["print_job"]
    db = app.extensions["motcua"].db
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with db.read() as s:
            job = s.get(PrintJob, job_id)
            if job.status in ("printed", "failed", "dropped"):
                s.expunge(job)
                return job
        time.sleep(0.05)
    raise AssertionError(f"print job {job_id} never finished")


def kiosk_printer_status(app) -> dict:
    with app.extensions["motcua"].db.read() as s:
        return s.scalar(select(Printer).where(Printer.name == "kiosk-sanh")).last_status


@pytest.mark.parametrize("victim", ["motcua.db", "secret_key", "config"])
def test_file_printer_never_writes_the_servers_files(make_app, tmp_path: Path, victim: str) -> None:
    config = config_with_targets(tmp_path, wide_paths(tmp_path))
    app, demos = make_app(config=config)
    instance = Path(app.extensions["motcua"].instance)
    path = config if victim == "config" else instance / victim
    before = path.read_bytes()
    point_kiosk_printer(app, "file", str(path))
    job = issue_and_wait(app, demos)
    assert job.status == "failed" and job.printed_at is None
    assert job.error.startswith("Máy in 'kiosk-sanh': Đích máy in") and "never written by a printer" in job.error
    if victim == "motcua.db":
        with sqlite3.connect(path) as con:  # still a database, and the ticket is in it
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert con.execute("SELECT count(*) FROM tickets").fetchone()[0] >= 1
        assert b"\x1b@" not in path.read_bytes()[:100]
    else:
        assert path.read_bytes() == before
    status = kiosk_printer_status(app)
    assert status["online"] is False and status["reasons"] == ["target_refused"]


def test_a_symlink_to_the_secret_key_is_followed_and_refused(make_app, tmp_path: Path) -> None:
    app, demos = make_app(config=config_with_targets(tmp_path, wide_paths(tmp_path)))
    secret = Path(app.extensions["motcua"].instance) / "secret_key"
    before = secret.read_bytes()
    (tmp_path / "lp0").symlink_to(secret)
    point_kiosk_printer(app, "file", str(tmp_path / "lp0"))
    job = issue_and_wait(app, demos)
    assert job.status == "failed" and "secret" in job.error
    assert secret.read_bytes() == before


def test_default_allow_list_refuses_files_outside_device_nodes(make_app, tmp_path: Path) -> None:
    app, demos = make_app()
    out = tmp_path / "out.bin"
    point_kiosk_printer(app, "file", str(out))
    job = issue_and_wait(app, demos)
    assert job.status == "failed" and "không khớp mẫu thiết bị" in job.error
    assert not out.exists()


@pytest.fixture
def listener():
    """A TCP socket on loopback that records whether anyone connected."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.3)
    yield sock
    sock.close()


def connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


@pytest.mark.parametrize("section", ["", 'networks = ["10.0.0.0/8"]\nports = ["1024-65535"]\n'],
                         ids=["port-outside", "address-outside"])
def test_network_printer_outside_the_allow_list_is_never_connected(make_app, tmp_path: Path, listener, section: str) -> None:
    app, demos = make_app(config=config_with_targets(tmp_path, section))
    port = listener.getsockname()[1]
    point_kiosk_printer(app, "network", f"127.0.0.1:{port}")
    job = issue_and_wait(app, demos)
    assert job.status == "failed" and job.error.startswith("Máy in 'kiosk-sanh': Đích máy in '127.0.0.1")
    assert not connected(listener)
    assert kiosk_printer_status(app)["reasons"] == ["target_refused"]


def test_transports_refuse_before_opening(tmp_path: Path, listener) -> None:
    port = listener.getsockname()[1]
    spec = PrinterSpec("p", "network", f"127.0.0.1:{port}", timeout=0.5)  # default allow-list
    with pytest.raises(TargetNotAllowed, match="cổng"):
        send(spec, b"\x1b@")
    status = query_status(spec)
    assert status.online is False and status.reasons == ("target_refused",)
    assert not connected(listener)
    for connection, target in (("file", "/etc/passwd"), ("serial", "/etc/shadow@9600"), ("preview", str(tmp_path))):
        with pytest.raises(TargetNotAllowed):
            send(PrinterSpec("p", connection, target), b"\x1b@")


def test_check_target_for_forms(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    allow = Allowlist.from_config(PrinterTargetsConfig(), instance)
    assert check_target("network", "192.168.1.50:9100", allow) is None
    assert check_target("network", "[fd00::5]:9101", allow) is None
    assert check_target("file", "/dev/usb/lp0", allow) is None
    assert check_target("serial", "/dev/ttyUSB0@115200", allow) is None
    assert check_target("lp", "kiosk_hall", allow) is None
    assert check_target("preview", str(instance / "previews" / "hall"), allow) is None
    refused = {
        ("network", "8.8.8.8:9100"), ("network", "169.254.169.254:9100"), ("network", "127.0.0.1:5432"),
        ("network", "192.168.1.50:22"), ("file", "/dev/usb/../../etc/passwd"), ("file", "dev/usb/lp0"),
        ("file", str(instance / "secret_key")), ("serial", "/dev/sda@9600"), ("lp", "-o evil"),
        ("preview", str(instance)), ("preview", str(tmp_path / "elsewhere")), ("bluetooth", "x"),
    }
    for kind, target in refused:
        err = check_target(kind, target, allow)
        assert err is not None and err.code == "printer_target_refused", (kind, target)
        assert err.message and err.message_en and err.message != err.message_en
    assert admit("network", "127.0.0.1:9100", allow).addresses == ("127.0.0.1",)


def test_check_target_of_a_running_app(app) -> None:
    """The allow-list of a running server protects its own database and config file."""
    st = app.extensions["motcua"]
    allow = Allowlist.of(st)
    assert check_target("file", str(st.config_path), allow) is not None
    assert check_target("preview", str(Path(st.instance) / "previews"), allow) is None
    assert check_target("preview", "previews", allow) is None  # as config.toml stores it: inside the instance
    assert check_target("preview", "../previews", allow) is not None
