"""The spooler against a real TCP ESC/POS printer on loopback: tickets print after the commit,
and when the printer refuses, hangs, runs out of paper or drops mid-job, the ticket is still
issued at once, the job ends failed or on the backup printer, and nothing stale prints later."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import zxingcpp
from sqlalchemy import select

from motcua.models import PrintJob
from printers.raster import decode as decode_raster
from tests.support.printing import config_with


def wait_job(db, job_id: int, done=("printed", "failed", "dropped"), timeout: float = 30) -> PrintJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.read() as s:
            job = s.get(PrintJob, job_id)
            if job.status in done:
                return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job.status}")


def issue(client, demo) -> dict:
    t0 = time.perf_counter()
    r = client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo["demo"].kiosk)
    assert r.status_code == 201
    body = r.get_json()
    body["_seconds"] = time.perf_counter() - t0
    return body


@pytest.fixture
def printing(make_app, tmp_path, escpos_sink):
    app, demos = make_app(config=config_with(tmp_path, escpos_sink.target))
    app.extensions["motcua.spooler"].retry_delay = 0.05
    return app, demos, escpos_sink


def test_ticket_prints_with_a_qr_that_opens_its_status_page(printing) -> None:
    app, demos, sink = printing
    db = app.extensions["motcua"].db
    t = issue(app.test_client(), demos)
    job = wait_job(db, t["print_job"])
    assert job.status == "printed" and job.attempts == 1 and job.printed_on_id == job.printer_id
    printed = sink.wait_job()
    image = decode_raster(printed.payload)
    assert image.width == 576
    codes = zxingcpp.read_barcodes(image.convert("L"))
    assert [c.text for c in codes] == [t["status_url"]]
    assert t["status_url"].startswith("http://localhost/t/")
    assert printed.payload.endswith(b"\x1dV\x00") or b"\x1dV" in printed.payload[-8:]  # cut


@pytest.mark.parametrize("mode", ["refuse", "hang", "paper_out", "drop"])
def test_printer_faults_never_lose_the_ticket_and_fail_over(printing, mode: str) -> None:
    app, demos, sink = printing
    sink.set_mode(mode, drop_after=500) if mode == "drop" else sink.set_mode(mode)
    db = app.extensions["motcua"].db
    client = app.test_client()
    t = issue(client, demos)
    assert client.get(f"/api/v1/tickets/{t['public_id']}").get_json()["status"] == "waiting"
    job = wait_job(db, t["print_job"])
    # The main printer failed every attempt; the preview backup printed it.
    assert job.status == "printed" and job.printed_on_id == job.backup_printer_id, (job.status, job.error)
    assert job.attempts == 4 and job.error and "kiosk-sanh" in job.error
    preview = Path(app.instance_path) / "previews"
    assert any(p.name.startswith(t["code"]) for p in preview.iterdir())


def test_job_fails_when_every_printer_fails(make_app, tmp_path, escpos_sink) -> None:
    escpos_sink.set_mode("paper_out")
    app, demos = make_app(config=config_with(tmp_path, escpos_sink.target, backup=escpos_sink.target, backup_conn="network"))
    app.extensions["motcua.spooler"].retry_delay = 0.05
    t = issue(app.test_client(), demos)
    job = wait_job(app.extensions["motcua"].db, t["print_job"])
    assert job.status == "failed" and "giấy" in job.error and job.attempts == 6
    assert escpos_sink.print_jobs() == []  # nothing reached the paper


def test_issue_is_not_slowed_by_a_hung_printer(printing) -> None:
    app, demos, sink = printing
    client = app.test_client()
    issue(client, demos)  # warm up
    sink.set_mode("hang")
    times = [issue(client, demos)["_seconds"] for _ in range(5)]
    # Each printer timeout is 1 s; issuing never waits for the printer.
    assert max(times) < 1.0, times


def test_a_stale_backlog_is_dropped_not_printed(printing) -> None:
    app, demos, sink = printing
    db = app.extensions["motcua"].db
    from motcua.models import Office

    with db.write() as s:
        office = s.scalar(select(Office))
        office.settings = {**office.settings, "print_max_age_seconds": 1}
    sink.set_mode("hang")
    client = app.test_client()
    jobs = [issue(client, demos)["print_job"] for _ in range(3)]
    states = [wait_job(db, j).status for j in jobs]
    sink.set_mode("ok")
    assert states[0] in ("dropped", "printed") and states[1:] == ["dropped", "dropped"]
    # The printer is back: the next ticket prints, the old ones never do.
    fresh = issue(client, demos)
    assert wait_job(db, fresh["print_job"]).status == "printed"
    time.sleep(0.3)
    assert len(sink.print_jobs()) == 1


def test_reprint(printing) -> None:
    app, demos, sink = printing
    db = app.extensions["motcua"].db
    client = app.test_client()
    t = issue(client, demos)
    wait_job(db, t["print_job"])
    r = client.post(f"/printers/api/tickets/{t['public_id']}/reprint", headers=demos["demo"].kiosk)
    assert r.status_code == 202
    assert wait_job(db, r.get_json()["print_job"]).status == "printed"
    assert len(sink.print_jobs()) == 2
    other = client.post(f"/printers/api/tickets/{t['public_id']}/reprint", headers=demos["demo"].device_headers("Màn hình sảnh"))
    assert other.status_code == 403 and other.get_json()["error"]["message"]
