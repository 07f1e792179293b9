"""A manager in Chromium: signs in, watches the dashboard update live, opens the report of the
scripted day, sees the charts drawn, and downloads the workbook, which opens with openpyxl."""

from __future__ import annotations

import io

import openpyxl
import pytest
import requests

from motcua.app import create_app
from motcua.migrate import upgrade
from tests.support.browser import screenshot
from tests.support.demo import populate
from tests.support.env import DEMO_CONFIG
from tests.support.report_day import BY_SERVICE, DAY, script_day, use_legacy_estimates

pytestmark = pytest.mark.browser

# Pixels a chart must have drawn (a blank canvas has none).
DRAWN = 2000


@pytest.fixture
def server(tmp_path, live_server_factory, monkeypatch):
    """A live server on a database that already holds the scripted day (played in-process
    under time-machine, since the server's own clock cannot travel)."""
    url = f"sqlite:///{tmp_path}/day.db"
    app = create_app(DEMO_CONFIG, database_url=url, instance=tmp_path / "setup", testing=True, plugins=False)
    upgrade(app.extensions["motcua"].db.engine)
    demo = populate(app.extensions["motcua"].db, app.extensions["motcua"].config)["demo"]
    use_legacy_estimates(monkeypatch)  # the day's printed ranges, as the report tests check them
    script_day(app.test_client(), demo)
    app.extensions["motcua"].db.dispose()
    live = live_server_factory(database_url=url, populate_db=False)
    return live, demo


def sign_in(page, base: str, staff) -> None:
    page.goto(f"{base}/login?next=/manager/")
    page.fill("input[name=username]", staff.username)
    page.fill("input[name=password]", staff.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/manager/")


def drawn_pixels(page, selector: str) -> int:
    return page.evaluate(
        """(sel) => {
            const c = document.querySelector(sel);
            const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
            return n;
        }""",
        selector,
    )


def test_manager_dashboard_report_and_download(page, server) -> None:
    live, demo = server
    base = live.url
    api = requests.Session()
    # Some of today: two counters open, a few citizens waiting, one being served.
    for number in (1, 2, 3):
        assert api.post(f"{base}/api/v1/counters/{number}/open", headers=demo.clerk(number).headers, timeout=10).status_code == 200
    for field in ("HT", "HT", "CT", "DD", "KD", "CT", "HT"):
        assert api.post(f"{base}/api/v1/tickets", json={"service": field}, headers=demo.kiosk, timeout=10).status_code == 201
    api.post(f"{base}/api/v1/counters/1/next", headers=demo.clerk(1).headers, timeout=10)
    api.post(f"{base}/api/v1/counters/1/start", headers=demo.clerk(1).headers, timeout=10)
    api.post(f"{base}/api/v1/counters/2/next", headers=demo.clerk(2).headers, timeout=10)

    sign_in(page, base, demo.manager)
    page.wait_for_selector(".counter-card[data-number='1'] .ticket:text('A001')")
    waiting = int(page.text_content("#k-waiting"))
    assert page.locator("#alerts li[data-code='no_counter']").count() == 1  # KD: nobody serves it
    # Live: a ticket issued elsewhere shows up without a reload.
    assert api.post(f"{base}/api/v1/tickets", json={"service": "DD"}, headers=demo.kiosk, timeout=10).status_code == 201
    page.wait_for_function("(n) => Number(document.getElementById('k-waiting').textContent) === n + 1", arg=waiting)
    page.wait_for_function("() => document.querySelector(\"#fields tr[data-code='DD'] td:nth-child(2)\").textContent === '2'")
    screenshot(page, "manager-dashboard", size=(1400, 1250))

    page.goto(f"{base}/manager/reports?from={DAY}&to={DAY}&group_by=service")
    page.wait_for_selector("table.summary")
    for chart in ("#chart-heatmap", "#chart-histogram", "#chart-counters"):
        assert drawn_pixels(page, chart) > DRAWN, chart
    rows = page.locator("table.summary tbody tr")
    assert rows.count() == len(BY_SERVICE) + 1
    assert rows.nth(0).locator("td").nth(0).text_content() == "Hộ tịch"
    assert page.locator("table.summary tr.total td").nth(7).text_content() == "6:53"  # mean wait 413.333 s
    assert "A004" in page.text_content("#out-of-order")
    screenshot(page, "manager-report", size=(1400, 2300))

    with page.expect_download() as info:
        page.click("#dl-workbook")
    assert info.value.suggested_filename == f"motcua-bao-cao-demo-{DAY}_{DAY}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(info.value.path().read_bytes()))
    assert book.sheetnames[:7] == ["Thông tin", "Theo quầy", "Theo cán bộ", "Theo lĩnh vực", "Theo giờ", "Theo thứ", "Theo ngày"]
    sheet = list(book["Theo lĩnh vực"].iter_rows(values_only=True))
    assert sheet[1][:4] == ("HT", "Hộ tịch", 4, 4)
    assert sheet[-1][1] == "Tổng cộng" and sheet[-1][2] == 11
    with page.expect_download() as info:
        page.click("#dl-tickets")
    log = list(openpyxl.load_workbook(io.BytesIO(info.value.path().read_bytes()))["Nhật ký"].iter_rows(values_only=True))
    assert len(log) == 12 and log[1][1] == "A001" and log[4][25] == "Chờ lâu quá"


def test_pages_work_without_inline_script(page, live_server) -> None:
    """Confirmations, select-to-filter and printing come from page.js under a CSP that refuses
    inline handlers (the page fixture fails the test on any refusal)."""
    base, demo = live_server.url, live_server.demo
    sign_in(page, base, demo.manager)
    hall = {"Authorization": f"Bearer {demo.devices['Màn hình sảnh']}"}

    def hall_works() -> bool:
        return requests.get(f"{base}/api/v1/queue", headers=hall, timeout=10).status_code == 200

    page.goto(f"{base}/manager/config/devices")
    revoke = page.locator("tr", has_text="Màn hình sảnh").locator("button", has_text="Thu hồi")
    page.once("dialog", lambda d: d.dismiss())
    revoke.click()
    page.wait_for_timeout(300)
    assert hall_works() and page.url.endswith("/manager/config/devices")  # cancelled: nothing sent
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        revoke.click()
    assert not hall_works()

    page.goto(f"{base}/manager/config/audit")
    with page.expect_navigation():
        page.select_option("select[name=entity]", "device")
    assert "entity=device" in page.url and page.locator("#audit").inner_text().count("Màn hình sảnh") >= 1

    page.goto(f"{base}/manager/reports/monthly")
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.click("button[data-print]")
    assert page.evaluate("window.__printed") is True
