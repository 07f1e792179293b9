"""Every time a manager reads is the office's, whatever the zone of the server (UTC here, the
tests' default) or of the manager's browser: the dashboard's "Đang gọi từ" and devices' "Thấy lần
cuối", and the workbooks' "Lập lúc", for an office in Asia/Ho_Chi_Minh (UTC+7)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import requests
from playwright.sync_api import expect

from motcua.engine import clock
from tests.support.browser import csp_refusals
from tests.support.env import OFFICE12
from tests.support.manager_page import WAIT, sign_in

pytestmark = pytest.mark.browser

OFFICE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def office_hm(moment: datetime) -> str:
    return moment.astimezone(OFFICE_TZ).strftime("%H:%M")


def made_at(path) -> str:
    sheet = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))["Thông tin"]
    return next(row[1] for row in sheet.iter_rows(values_only=True) if row[0] == "Lập lúc")


def test_dashboard_and_workbooks_show_the_office_time_in_a_browser_set_to_utc(browser, live_server_factory) -> None:
    server = live_server_factory(config=OFFICE12)
    demo = server.demos["lon"]
    assert requests.post(f"{server.url}/api/v1/counters/1/open", headers=demo.clerk(1).headers, timeout=10).status_code == 200
    assert requests.post(f"{server.url}/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk, timeout=10).status_code == 201
    r = requests.post(f"{server.url}/api/v1/counters/1/next", headers=demo.clerk(1).headers, timeout=10)
    called = datetime.fromisoformat(r.json()["ticket"]["called_at"])
    assert office_hm(called) != called.astimezone(ZoneInfo("UTC")).strftime("%H:%M")

    # A manager whose computer is set to UTC (as the server is).
    context = browser.new_context(locale="vi-VN", timezone_id="UTC", viewport={"width": 1440, "height": 900}, accept_downloads=True)
    try:
        page = context.new_page()
        refused = csp_refusals(page)
        sign_in(page, server)
        card = page.locator(".counter-card[data-number='1']")
        expect(card.locator(".ticket")).to_have_text("A001", timeout=WAIT)
        expect(card).to_contain_text(f"Đang gọi từ {office_hm(called)}")
        # The kiosk was seen when it issued the ticket.
        kiosk = page.locator("#devices tr", has_text="Kiosk sảnh")
        expect(kiosk).to_contain_text("Hoạt động", timeout=WAIT)
        seen = kiosk.locator("td").nth(3).inner_text()
        assert seen in {office_hm(called), office_hm(clock.now())}, seen

        page.goto(f"{server.url}/manager/reports")
        for link in ("#dl-workbook", "#dl-tickets"):
            before = clock.now()
            with page.expect_download() as info:
                page.click(link)
            shown = made_at(info.value.path())
            after = clock.now()
            allowed = {f"{m.astimezone(OFFICE_TZ):%d/%m/%Y} {office_hm(m)}" for m in (before, after)}
            assert shown in allowed, (link, shown, allowed)
    finally:
        context.close()
    assert not refused, refused
