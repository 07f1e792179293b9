"""Staffing advice: four weeks of history made by the simulator (two counters shared by two
fields, a busy morning hour and a quiet afternoon), then `motcua staffing` and the manager page
(which computes in a background process) on it."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import time
import traceback
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from motcua.app import create_app
from motcua.cli import main
from motcua.db import Database
from motcua.engine import clock
from motcua.migrate import upgrade
from motcua.simulation import staffing_jobs
from motcua.simulation.scenario import parse_scenario
from motcua.simulation.simulate import run_scenario
from motcua.simulation.staffing import recheck
from tests.support.demo import login, populate

CONFIG = """
[[offices]]
code = "xa"
name = "UBND xã (bố trí quầy)"
timezone = "Asia/Ho_Chi_Minh"
wait_target_minutes = 15

[offices.working_hours]
mon = ["07:30-11:30", "13:30-17:00"]
wed = ["07:30-11:30", "13:30-17:00"]

[offices.issuing_windows]
mon = ["07:30-11:00", "13:30-16:30"]
wed = ["07:30-11:00", "13:30-16:30"]

[[offices.fields]]
code = "HT"
name = "Hộ tịch"
prefix = "A"
service_minutes = 8

[[offices.fields]]
code = "CT"
name = "Chứng thực"
prefix = "B"
service_minutes = 4

[[offices.counters]]
number = 1
fields = { HT = 2, CT = 1 }

[[offices.counters]]
number = 2
fields = { CT = 2, HT = 1 }

[[offices.priority_groups]]
code = "elderly"
name = "Người cao tuổi (từ 60 tuổi)"
"""

# 09h is busy (more than two counters can serve), 14h quiet.
SCENARIO = """
config = "config.toml"
office = "xa"
date = "{first}"
days = {days}
seed = 5

[counters]
1 = ["07:30-11:30", "13:30-17:00"]
2 = ["07:30-11:30", "13:30-17:00"]

[[fields]]
service = "HT"
arrivals_per_hour = {{ "08" = 6, "09" = 14, "10" = 4, "14" = 3 }}
service_median_min = 6.0
service_p90_min = 12.0
no_show_share = 0.03

[[fields]]
service = "CT"
arrivals_per_hour = {{ "08" = 8, "09" = 18, "10" = 5, "14" = 4 }}
service_median_min = 3.0
service_p90_min = 6.0
priority_share = 0.1
"""


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, dict]:
    """An instance folder whose SQLite database holds the last four weeks' Mondays and Wednesdays."""
    folder = tmp_path_factory.mktemp("staffing")
    (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
    today = clock.business_day(clock.now(), "Asia/Ho_Chi_Minh")
    days = [today - timedelta(days=d) for d in range(28, 0, -1)]
    days = [d for d in days if d.isoweekday() in (1, 3)]
    path = folder / "history.toml"
    path.write_text(SCENARIO.format(first=days[0].isoformat(), days=len(days)), encoding="utf-8")
    url = f"sqlite:///{folder}/motcua.db"
    app = create_app(folder / "config.toml", database_url=url, instance=folder, plugins=False)
    st = app.extensions["motcua"]
    upgrade(st.db.engine)
    demos = populate(st.db, st.config)
    st.db.dispose()
    sc, config, _ = parse_scenario(path.read_text(encoding="utf-8"), path)
    out = run_scenario(sc, config.offices[0], config, database_url=url)
    assert out["days"] == len(days) and out["tickets"] > 300
    return folder, demos["xa"]


def _instance(history, tmp_path: Path) -> Path:
    folder, _ = history
    inst = tmp_path / "instance"
    inst.mkdir()
    for name in ("config.toml", "motcua.db", "secret_key"):
        shutil.copy(folder / name, inst / name)
    return inst


def _cli(inst: Path, *args: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MOTCUA_INSTANCE", str(inst))
    return CliRunner().invoke(main, ["--config", str(inst / "config.toml"), "staffing", "--database", f"sqlite:///{inst}/motcua.db", *args])


def test_busy_hour_needs_more_counters_and_the_advice_holds(history, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inst = _instance(history, tmp_path)
    r = _cli(inst, "--weeks", "4", "--json", monkeypatch=monkeypatch)
    assert r.exit_code == 0, (r.output, "".join(traceback.format_exception(*r.exc_info)) if r.exc_info else None)
    advice = json.loads(r.stdout.strip().splitlines()[-1])
    assert advice["target_p90_min"] == 15 and advice["days"] == {"1": 4, "3": 4}
    for wd in (1, 3):
        rows = [x for x in advice["rows"] if x["weekday"] == wd]
        busy = sum(x["recommended"] for x in rows if x["hour"] == 9)
        quiet = sum(x["recommended"] for x in rows if x["hour"] == 14)
        assert busy > quiet >= 1, rows
        # Two shared counters were open all day: about one counter-equivalent per field.
        assert sum(x["real"] for x in rows if x["hour"] == 9) == pytest.approx(2, abs=0.05)
        assert all(x["met"] for x in rows), rows
    # Settings were judged on many days of the fast model, the one found confirmed through the engine.
    assert advice["model_days"] >= 10 * advice["simulated_days"] > 0
    # Citizens drawn anew, counters as recommended, through the engine: each field's day stays under the target.
    db = Database(f"sqlite:///{inst}/motcua.db")
    try:
        for seed in (99, 100, 101):
            checks = recheck(db, advice, seed=seed)
            assert set(checks) == {"1:HT", "1:CT", "3:HT", "3:CT"}
            assert all(p is not None and p <= 15 for p in checks.values()), (seed, checks)
    finally:
        db.dispose()
    # The result is kept for the manager page's day, and the text table says what it shows.
    assert list((inst / "staffing").glob("xa-w4-t15-*.json"))
    text = _cli(inst, "--weeks", "4", "--target-p90", "30", monkeypatch=monkeypatch)
    assert text.exit_code == 0 and "Thứ Hai / Mon" in text.stdout and "counter-equivalents" in text.stdout
    relaxed = json.loads(next((inst / "staffing").glob("xa-w4-t30-*.json")).read_text(encoding="utf-8"))
    assert relaxed["target_p90_min"] == 30 and all(x["p90_min"] is None or x["p90_min"] <= 30 for x in relaxed["rows"])


def test_manager_page_computes_in_the_background_and_exports(history, tmp_path: Path) -> None:
    _, demo = history
    inst = _instance(history, tmp_path)
    app = create_app(inst / "config.toml", database_url=f"sqlite:///{inst}/motcua.db", instance=inst, testing=True)
    try:
        client = app.test_client()
        login(client, demo.clerk(1))
        assert client.get("/manager/staffing").status_code == 403
        assert client.get("/manager/staffing/export.xlsx").status_code == 403

        client = app.test_client()
        login(client, demo.manager)
        nav = client.get("/manager/").get_data(as_text=True)
        assert 'href="/manager/staffing"' in nav
        assert client.get("/manager/staffing?office=khac").status_code == 404
        assert client.get("/manager/staffing?weeks=3").status_code == 422
        # Two jobs already running: the page starts no third one.
        with staffing_jobs.holding(inst, "other-1") as a, staffing_jobs.holding(inst, "other-2") as b:
            assert a and b
            busy = client.get("/manager/staffing").get_data(as_text=True)
        assert "đang tính các đề xuất khác" in busy and not list((inst / "staffing").glob("xa-*.started"))
        first = client.get("/manager/staffing").get_data(as_text=True)
        assert "Đang tính" in first and "staffing/status" in first
        deadline = time.monotonic() + 240
        while True:
            page = client.get("/manager/staffing").get_data(as_text=True)
            if "Đang tính" not in page or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert "Đang tính" not in page, (inst / "staffing" / "jobs.log").read_text(encoding="utf-8", errors="replace")
        assert "chart-staffing" in page and "quầy quy đổi" in page and "Hộ tịch" in page
        cells = re.findall(r"<strong>(\d+)</strong> / (\d+\.\d)", page)
        assert cells
        english = client.get("/manager/staffing?lang=en").get_data(as_text=True)
        assert "Staffing advice" in english and "counter-equivalents" in english
        r = client.get("/manager/staffing/export.xlsx")
        assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
        wb = openpyxl.load_workbook(io.BytesIO(r.data))
        ws = wb["Đề xuất bố trí quầy"]
        rows = list(ws.iter_rows(values_only=True))
        assert rows[0][:3] == ("Thứ", "Giờ", "Lĩnh vực")
        busy = [row for row in rows[1:] if row[0] == "Thứ Hai" and row[1] == 9]
        assert {row[2] for row in busy} == {"HT", "CT"} and all(isinstance(row[6], int) and row[6] >= 1 for row in busy)
        assert len(rows) - 1 == len(json.loads(next((inst / "staffing").glob("xa-w4-t15-*.json")).read_text(encoding="utf-8"))["rows"])
    finally:
        app.extensions["motcua"].db.dispose()


@pytest.mark.browser
def test_the_page_in_chromium_is_accessible_and_fits(history, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page) -> None:
    from playwright.sync_api import expect

    from tests.support.browser import screenshot
    from tests.support.env import free_port
    from tests.support.live import LiveServer, spawn, wait_for_http
    from tests.support.screen_checks import assert_accessible, assert_fits

    folder, demo = history
    inst = _instance(history, tmp_path)
    assert _cli(inst, "--weeks", "4", monkeypatch=monkeypatch).exit_code == 0  # the day's advice, ready
    port = free_port()
    env = {**os.environ, "MOTCUA_CONFIG": str(inst / "config.toml"), "MOTCUA_INSTANCE": str(inst),
           "DATABASE_URL": f"sqlite:///{inst}/motcua.db", "MOTCUA_HOST": "127.0.0.1", "MOTCUA_PORT": str(port),
           "PYTHONUNBUFFERED": "1", "MOTCUA_DAYEND": "off"}
    log = inst / "server.log"
    server = LiveServer(f"http://127.0.0.1:{port}", spawn(env, log), env, {"xa": demo}, log)
    try:
        wait_for_http(server.url + "/api/v1/services", server.process, log)
        page.goto(f"{server.url}/login?next=/manager/staffing")
        page.fill("input[name=username]", demo.manager.username)
        page.fill("input[name=password]", demo.manager.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/manager/staffing")
        page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 1")
        expect(page.locator("table.staffing tbody tr")).to_have_count(3)  # two fields and the total
        assert page.locator("h1").count() == 1
        assert_accessible(page, "staffing advice")
        for width, height in ((1440, 900), (1366, 768)):
            page.set_viewport_size({"width": width, "height": height})
            assert_fits(page, f"staffing advice at {width}×{height}")
            wide = page.evaluate("() => [...document.querySelectorAll('.table-wrap')].filter((w) => w.scrollWidth > w.clientWidth + 1).length")
            assert not wide, f"the table is wider than the screen at {width}×{height}"
        screenshot(page, "manager-staffing-1440x900", size=(1440, 900))
        page.click("summary")  # the help text says how counters are counted
        expect(page.locator("details.help")).to_contain_text("quầy quy đổi")
        # Another target is computed in the background: the waiting state is accessible too.
        page.goto(f"{server.url}/manager/staffing?weeks=4&target=20")
        expect(page.locator("p.notice")).to_contain_text("Đang tính")
        assert_accessible(page, "staffing advice being computed")
        expect(page.locator("canvas#chart-staffing")).to_be_visible(timeout=240_000)  # the page reloads itself
    finally:
        server.stop()
