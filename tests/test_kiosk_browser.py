"""The kiosk and the ticket status page in Chromium, against a real `motcua serve`.

Screenshots for the docs: kiosk-start/result in portrait (1080×1920) and landscape (1920×1080),
and the status page on a 360-px phone.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from PIL import Image
from playwright.sync_api import Page, expect

from tests.support.browser import phone_context, screenshot
from tests.support.env import DEMO_CONFIG
from tests.support.kiosk_page import KIOSK, PORTRAIT, TIMEOUT, open_kiosk, tap_field, ticket_from_api, ticket_on_screen

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1920, "height": 1080}
PHONE = {"width": 360, "height": 740}


def qr_loaded(page: Page) -> None:
    page.wait_for_function("() => { const i = document.getElementById('r-qr'); return i.complete && i.naturalWidth > 0; }", timeout=TIMEOUT)


def waiting(server, code: str) -> int:
    services = requests.get(f"{server.url}/api/v1/services", timeout=10).json()["services"]
    return next(s["waiting"] for s in services if s["code"] == code)


def assert_fits_without_scrolling(page: Page) -> None:
    fit = page.evaluate(
        """() => {
            const doc = document.scrollingElement;
            const boxes = [...document.querySelectorAll('#fields, #priority-fields, #groups')]
                .filter((el) => el.offsetParent !== null);
            const targets = [...document.querySelectorAll('button')]
                .filter((b) => b.offsetParent !== null)
                .map((b) => { const r = b.getBoundingClientRect(); return [b.id || b.dataset.code || b.className, r.width, r.height]; });
            return {
                page: [doc.scrollHeight, window.innerHeight, doc.scrollWidth, window.innerWidth],
                boxes: boxes.map((el) => [el.id, el.scrollHeight, el.clientHeight]),
                targets,
            };
        }"""
    )
    scroll_h, inner_h, scroll_w, inner_w = fit["page"]
    assert scroll_h <= inner_h and scroll_w <= inner_w, fit
    for name, scroll, client in fit["boxes"]:
        assert scroll <= client + 1, (name, fit)
    for name, width, height in fit["targets"]:
        assert width >= 80 and height >= 80, (name, width, height)


def decode_qr(server, public_id: str) -> str:
    import zxingcpp

    png = requests.get(f"{server.url}/kiosk/qr/{public_id}.png", timeout=10)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert len(found) == 1
    return found[0].text


# ---- the kiosk ---------------------------------------------------------------------------


def test_kiosk_issues_a_ticket_in_both_orientations(live_server, page: Page) -> None:
    open_kiosk(page, live_server)
    # The token left the address bar and lives in the kiosk's storage.
    assert "token" not in page.url
    assert page.evaluate("localStorage.getItem('motcua.kiosk.token')") == live_server.demo.devices[KIOSK]
    hoti = page.locator('#fields [data-code="HT"]')
    expect(hoti).to_contain_text("Hộ tịch")
    expect(hoti).to_contain_text("Civil status")
    expect(hoti).to_contain_text("Chưa có ai chờ")
    expect(page.locator("#priority-button")).to_contain_text("Người cao tuổi")
    assert_fits_without_scrolling(page)
    screenshot(page, "kiosk-start-portrait", size=(1080, 1920))

    shown = tap_field(page, "HT")
    api = ticket_from_api(live_server, shown["public_id"])
    assert shown["code"] == api["code"] == "A001"
    assert api["service"] == "HT" and api["status"] == "waiting" and api["priority"] is None
    expect(page.locator("#r-field")).to_have_text("Hộ tịch")
    expect(page.locator("#r-ahead")).to_have_text("Không có ai chờ trước bạn")
    qr_loaded(page)
    # The demo kiosk has a printer, so a print job exists and the screen reports on it.
    assert shown["print_job"]
    expect(page.locator("#r-print")).to_have_attribute("data-state", re.compile("printing|printed|failed"))
    assert shown["status_url"] == f"{live_server.url}/t/{shown['public_id']}"

    # The demo kiosk prints to the preview printer: the PNG of this ticket lands in the instance
    # folder and the screen says so. (A real TCP printer: tests/test_kiosk_printing_browser.py.)
    expect(page.locator("#r-print")).to_have_attribute("data-state", "printed", timeout=TIMEOUT)
    previews = Path(live_server.env["MOTCUA_INSTANCE"]) / "previews"
    assert any(p.name.startswith(shown["code"]) for p in previews.iterdir())

    screenshot(page, "kiosk-result-portrait", size=(1080, 1920))
    assert_fits_without_scrolling(page)

    page.locator("#done").click()
    expect(page.locator("#screen-start")).to_be_visible()
    # The live queue brought the new count without a reload.
    expect(hoti).to_have_attribute("data-waiting", "1", timeout=TIMEOUT)
    expect(hoti).to_contain_text("1 người đang chờ")

    page.set_viewport_size(LANDSCAPE)
    assert_fits_without_scrolling(page)
    screenshot(page, "kiosk-start-landscape", size=(1920, 1080))
    shown = tap_field(page, "CT")
    assert shown["code"] == ticket_from_api(live_server, shown["public_id"])["code"] == "B001"
    qr_loaded(page)
    assert_fits_without_scrolling(page)
    screenshot(page, "kiosk-result-landscape", size=(1920, 1080))


def test_a_double_tap_makes_one_ticket(live_server, page: Page) -> None:
    open_kiosk(page, live_server)
    page.locator('#fields [data-code="CT"]').dblclick()
    first = ticket_on_screen(page)
    page.locator("#done").click()
    # Two clicks in the same task, faster than any finger: still one request.
    page.evaluate("() => { const b = document.querySelector('#fields [data-code=\"CT\"]'); b.click(); b.click(); }")
    second = ticket_on_screen(page)
    assert (first["code"], second["code"]) == ("B001", "B002")
    assert waiting(live_server, "CT") == 2


def test_priority_ticket_asks_the_group_then_the_field(live_server, page: Page) -> None:
    open_kiosk(page, live_server)
    page.locator("#priority-button").click()
    expect(page.locator("#screen-groups")).to_be_visible()
    expect(page.locator("#groups .k-group")).to_have_count(5)
    assert_fits_without_scrolling(page)
    page.locator('#groups [data-group="elderly"]').click()
    expect(page.locator("#screen-priority")).to_be_visible()
    expect(page.locator("#priority-chosen")).to_have_text("Ưu tiên: Người cao tuổi (từ 60 tuổi)")
    assert_fits_without_scrolling(page)
    shown = tap_field(page, "DD", container="#priority-fields")
    expect(page.locator("#r-priority")).to_have_text("Ưu tiên: Người cao tuổi (từ 60 tuổi)")
    api = ticket_from_api(live_server, shown["public_id"])
    assert api["priority"] == "elderly" and api["code"] == shown["code"] == "C001"
    page.locator("#done").click()
    expect(page.locator("#screen-start")).to_be_visible()


def add_kiosk_without_printer(server, name: str = "Kiosk tầng 2") -> str:
    from motcua.db import Database
    from motcua.engine import clock
    from motcua.models import Device, DeviceKind, Office
    from motcua.security import new_token, token_hash

    token = new_token("dev")
    db = Database(server.env["DATABASE_URL"])
    try:
        with db.write() as s:
            office = s.query(Office).filter_by(code="demo").one()
            s.add(Device(office_id=office.id, name=name, kind=DeviceKind.kiosk, token_hash=token_hash(token), created_at=clock.now()))
    finally:
        db.dispose()
    return token


def test_print_status_messages(live_server, page: Page) -> None:
    # The screen follows the job the spooler reports; here the answers are scripted, so the
    # wording is checked whatever the printer does (the spooler's own tests drive real ones).
    job = {"status": "printing"}
    page.route("**/kiosk/api/print-jobs/**", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(job)))
    open_kiosk(page, live_server)
    box = page.locator("#r-print")
    tap_field(page, "HT")
    expect(page.locator("#r-print-main")).to_have_text("Đang in phiếu…")
    job["status"] = "printed"
    expect(box).to_have_attribute("data-state", "printed", timeout=TIMEOUT)
    expect(page.locator("#r-print-main")).to_have_text("Đã in phiếu — mời nhận phiếu")
    page.locator("#done").click()

    for status in ("failed", "dropped"):
        job.update(status=status, error="paper out")
        tap_field(page, "HT")
        expect(box).to_have_attribute("data-state", "failed", timeout=TIMEOUT)
        expect(page.locator("#r-print-main")).to_have_text("Máy in gặp sự cố. Số của bạn vẫn có hiệu lực: hãy ghi lại số hoặc quét mã QR")
        expect(page.locator("#r-print-sub")).to_have_text("The printer has a problem. Your number is still valid: write it down or scan the QR code")
        page.locator("#done").click()
    page.unroute("**/kiosk/api/print-jobs/**")

    # A kiosk with no printer: remember the number, or scan the QR code.
    page.goto(f"{live_server.url}/kiosk/?token={add_kiosk_without_printer(live_server)}")
    expect(page.locator("#fields .k-field")).to_have_count(5, timeout=TIMEOUT)
    shown = tap_field(page, "CT")
    assert shown["print_job"] == ""
    expect(box).to_have_attribute("data-state", "none")
    expect(page.locator("#r-print-main")).to_have_text("Vui lòng ghi nhớ số thứ tự")
    qr_loaded(page)


def test_english_kiosk_and_back_to_vietnamese(live_server, page: Page) -> None:
    open_kiosk(page, live_server)
    page.locator("#lang-toggle").click()
    expect(page.locator("#screen-start .k-title")).to_have_text("Touch the service you need", timeout=TIMEOUT)
    expect(page.locator("#lang-toggle")).to_have_text("Tiếng Việt")
    # The page drops ?lang= from its address with history.replaceState: wait for it, don't race it.
    expect(page).not_to_have_url(re.compile(r"[?&](lang|token)="), timeout=TIMEOUT)
    expect(page.locator('#fields [data-code="HT"]')).to_contain_text("Nobody waiting")
    shown = tap_field(page, "XH")
    expect(page.locator("#r-ahead")).to_have_text("Nobody is ahead of you")
    assert shown["code"] == "E001"
    # The next citizen finds the kiosk in Vietnamese again.
    page.locator("#done").click()
    expect(page.locator("#screen-start .k-title")).to_have_text("Chạm vào lĩnh vực bạn cần giải quyết", timeout=TIMEOUT)


def test_without_a_token_the_kiosk_explains_the_setup(live_server, page: Page) -> None:
    page.set_viewport_size(PORTRAIT)
    page.goto(f"{live_server.url}/kiosk/")
    expect(page.locator("#screen-setup")).to_be_visible()
    expect(page.locator("#screen-setup")).to_contain_text("Kiosk chưa được kích hoạt")
    expect(page.locator("#screen-setup")).to_contain_text("motcua devices add")
    expect(page.locator("#screen-setup")).to_contain_text("This kiosk is not set up yet")
    # A revoked or mistyped token: back to the setup screen, and the bad token is forgotten.
    page.goto(f"{live_server.url}/kiosk/?token=dev_not-a-real-token")
    expect(page.locator("#screen-setup")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator('[data-reason="bad_token"]').first).to_be_visible()
    assert page.evaluate("localStorage.getItem('motcua.kiosk.token')") is None
    # A display's token is not a kiosk's.
    page.goto(f"{live_server.url}/kiosk/?token={live_server.demo.devices['Màn hình sảnh']}")
    expect(page.locator('[data-reason="not_kiosk"]').first).to_be_visible(timeout=TIMEOUT)


def closed_fields_config(tmp_path: Path) -> Path:
    """The demo with Land (DD) limited to one ticket a day, and Labour (XH) issuing only at an
    hour twelve hours from now."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    text = text.replace("daily_quota = 120", "daily_quota = 1")
    hour = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(hours=12)).hour
    span = f'["{hour:02d}:00-{hour:02d}:01"]'
    windows = "issuing_windows = { " + ", ".join(f"{d} = {span}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")) + " }"
    text = text.replace('code = "XH"\n', f'code = "XH"\n{windows}\n')
    path = tmp_path / "closed.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_closed_fields_show_why(live_server_factory, tmp_path, page: Page) -> None:
    server = live_server_factory(config=closed_fields_config(tmp_path))

    # A screen that missed the news (no live queue, the last field list kept): Land still looks
    # open after its only ticket went, and the API's refusal is what the citizen reads.
    stale = requests.get(f"{server.url}/api/v1/services", timeout=10).text
    page.route("**/vendor/socket.io/**", lambda route: route.abort())
    page.route("**/api/v1/services*", lambda route: route.fulfill(status=200, content_type="application/json", body=stale))
    open_kiosk(page, server)
    land = page.locator('#fields [data-code="DD"]')
    labour = page.locator('#fields [data-code="XH"]')
    expect(labour).to_be_disabled()
    expect(labour).to_contain_text("Ngoài giờ lấy số")
    r = requests.post(f"{server.url}/api/v1/tickets", json={"service": "DD"}, headers=server.demo.kiosk, timeout=10)
    assert r.status_code == 201
    expect(land).to_be_enabled()
    land.click()
    expect(page.locator("#message")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#message-main")).to_have_text("Đã hết số thứ tự của lĩnh vực này trong hôm nay.")
    expect(page.locator("#message-sub")).to_have_text("Today's tickets for this field have run out.")
    assert waiting(server, "DD") == 1
    page.locator('#message [data-action="dismiss"]').click()
    expect(page.locator("#message")).to_be_hidden()

    # With the live queue and the real field list, the field is off and says why.
    page.unroute("**/vendor/socket.io/**")
    page.unroute("**/api/v1/services*")
    page.reload()
    expect(land).to_be_disabled(timeout=TIMEOUT)
    expect(land).to_contain_text("Đã hết số thứ tự của lĩnh vực này trong hôm nay.")
    page.goto(f"{server.url}/kiosk/?lang=en")
    expect(land).to_contain_text("Today's tickets for this field have run out.", timeout=TIMEOUT)
    expect(labour).to_contain_text("Outside ticket hours")


def test_offline_banner_comes_and_goes(live_server, page: Page) -> None:
    open_kiosk(page, live_server)
    banner = page.locator("#offline")
    expect(banner).to_be_hidden()
    live_server.stop()
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_contain_text("Mất kết nối máy chủ, đang thử lại…")
    expect(page.locator('#fields [data-code="HT"]')).to_be_disabled()
    expect(page.locator("#priority-button")).to_be_disabled()
    live_server.start()
    expect(banner).to_be_hidden(timeout=30_000)
    expect(page.locator('#fields [data-code="HT"]')).to_be_enabled()
    shown = tap_field(page, "HT")
    assert shown["code"] == ticket_from_api(live_server, shown["public_id"])["code"]


# ---- the status page behind the QR -----------------------------------------------------------


def test_status_page_follows_the_ticket_and_cancels(live_server, browser, page: Page) -> None:
    open_kiosk(page, live_server)
    shown = tap_field(page, "HT")
    url = decode_qr(live_server, shown["public_id"])
    assert url == shown["status_url"]

    phone = phone_context(browser, PHONE)
    try:
        mobile = phone.new_page()
        mobile.goto(url)
        expect(mobile.locator("#code")).to_have_text(shown["code"])
        expect(mobile.locator("#field")).to_have_text("Hộ tịch")
        expect(mobile.locator("#state-main")).to_have_text("Đang chờ")
        expect(mobile.locator("#state-sub")).to_have_text("Không có ai chờ trước bạn")
        expect(mobile.locator("#position")).to_have_text("1")
        expect(mobile.locator("#live")).to_have_text("Tự động cập nhật")
        expect(mobile.locator("#cancel-box")).to_be_visible()  # a waiting citizen may give the number back
        assert mobile.locator('meta[name="robots"]').get_attribute("content").startswith("noindex")
        assert mobile.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        screenshot(mobile, "ticket-status-phone")

        # A clerk at counter 1 (Hộ tịch and Chứng thực) calls the next citizen: the phone says where to go.
        r = requests.post(f"{live_server.url}/api/v1/counters/1/next", headers=live_server.demo.clerk(1).headers, timeout=10)
        assert r.status_code == 200 and r.json()["ticket"]["code"] == shown["code"]
        expect(mobile.locator("#state-main")).to_have_text("Mời bạn đến quầy số 1", timeout=TIMEOUT)
        expect(mobile.locator("#app")).to_have_attribute("data-status", "called")
        expect(mobile.locator("#cancel-box")).to_be_hidden()  # not while the counter is calling them

        # Another citizen cancels from the phone, after confirming.
        r = requests.post(f"{live_server.url}/api/v1/tickets", json={"service": "CT"}, headers=live_server.demo.kiosk, timeout=10)
        other = r.json()
        mobile.goto(other["status_url"] + "?lang=en")
        expect(mobile.locator("#state-main")).to_have_text("Waiting")
        mobile.locator("#cancel").click()
        expect(mobile.locator("#confirm")).to_be_visible()
        expect(mobile.locator("#confirm-text")).to_contain_text(other["code"])
        mobile.locator("#confirm-yes").click()
        expect(mobile.locator("#state-main")).to_have_text("This number was cancelled", timeout=TIMEOUT)
        expect(mobile.locator("#cancel-box")).to_be_hidden()
        assert ticket_from_api(live_server, other["public_id"])["status"] == "cancelled"
    finally:
        phone.close()
