"""An appointment from end to end in Chromium, against a real `motcua serve` whose clock starts on
a Monday at 09:05: booked on a phone (390×844) at /q/demo/book, its page with the code and the QR,
checked in at the kiosk by scanning that QR (the wedge types its address) and by typing a code on
the kiosk's keys, the mark and the booked name on the counter page, and the calls: appointments
inside their window before the walk-in who came earlier, a late one after it. Every citizen page
fits and passes axe-core."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import requests
import time_machine
from playwright.sync_api import Page, expect

from motcua.app import create_app
from tests.support import clock
from tests.support.browser import csp_refusals, phone_context, screenshot
from tests.support.counter_page import sign_in
from tests.support.env import DEMO_CONFIG
from tests.support.kiosk_page import TIMEOUT, open_kiosk, tap_field, ticket_on_screen
from tests.support.screen_checks import assert_accessible, assert_fits

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PHONE = {"width": 390, "height": 844}
MONDAY = datetime(2026, 9, 7, 9, 5, tzinfo=HCM)
SCANNER_DELAY_MS = 4


def utc(hour: int, minute: int) -> str:
    return datetime(2026, 9, 7, hour, minute, tzinfo=HCM).astimezone(ZoneInfo("UTC")).isoformat()


def scan(page: Page, text: str) -> None:
    """What a keyboard-wedge scanner does: the text at its speed, then Enter."""
    page.keyboard.type(text, delay=SCANNER_DELAY_MS)
    page.keyboard.press("Enter")


def type_code(page: Page, code: str) -> None:
    page.locator("#code-button").click()
    expect(page.locator("#screen-code")).to_be_visible()
    for ch in code:
        page.locator(f'#code-keys [data-key="{ch}"]').click()
    page.locator("#code-submit").click()


def book_late_one(server, config) -> dict:
    """An appointment at 08:00, booked at 07:00 (before the server's morning): at 09:05 it is late."""
    instance = server.env["MOTCUA_INSTANCE"]
    app = create_app(config, database_url=server.env["DATABASE_URL"], instance=instance, plugins=False)
    with time_machine.travel(datetime(2026, 9, 7, 7, 0, tzinfo=HCM), tick=False):
        r = app.test_client().post("/api/v1/public/appointments", json={"office": "demo", "service": "HT", "start": utc(8, 0),
                                                                        "name": "Trần Văn Muộn", "phone": "0933000003"})
    app.extensions["motcua"].db.engine.dispose()
    assert r.status_code == 201, r.json
    return r.json


def test_an_appointment_booked_on_a_phone_and_served_in_its_window(live_server_factory, browser, tmp_path) -> None:
    config = tmp_path / "appointments.toml"
    # Bookable up to the slot's start, so that a slot later this morning can still be booked at 09:05.
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("close_minutes_before = 60", "close_minutes_before = 0"), encoding="utf-8")
    server = live_server_factory(config=config, extra_env=clock.at(MONDAY))
    late = book_late_one(server, config)

    # ---- the phone: book 09:15 ----------------------------------------------------------------
    phone = phone_context(browser, PHONE)
    try:
        p = phone.new_page()
        refused = csp_refusals(p)
        p.goto(server.url + "/q/demo")
        p.get_by_role("link", name="Đặt lịch hẹn trước").click()
        expect(p.get_by_role("heading", name="Đặt lịch hẹn")).to_be_visible()
        expect(p.locator('input[name="day"]:checked')).to_have_value("2026-09-07")
        slot = p.locator(f'#slots input[value="{utc(9, 15)}"]')
        expect(slot).to_be_enabled(timeout=TIMEOUT)
        expect(p.locator(f'#slots input[value="{utc(8, 45)}"]')).to_have_count(0)  # past slots are not offered
        assert_fits(p, "booking page, 390 px")
        assert_accessible(p, "booking page, 390 px")
        screenshot(p, "appointment-booking-phone")
        # Nothing chosen: the page says what is missing, in Vietnamese.
        p.get_by_role("button", name="Đặt lịch", exact=True).click()
        expect(p.locator("#error")).to_have_text("Vui lòng chọn giờ hẹn.")
        slot.locator("xpath=..").click()
        p.get_by_label("Họ và tên").fill("Lê Thị Hoa")
        p.get_by_label("Số điện thoại").fill("0912 000 001")
        p.get_by_role("button", name="Đặt lịch", exact=True).click()
        p.wait_for_url("**/a/*")
        code = p.locator("#code").inner_text().strip()
        public_id = p.url.split("/a/")[1].split("?")[0]
        assert len(code) == 6
        expect(p.locator("#time")).to_have_text("09:15–09:30")
        expect(p.locator("#state-main")).to_have_text("Đã đặt lịch")
        expect(p.locator(".ts-check-qr")).to_be_visible()
        assert "Lê Thị Hoa" not in p.content()
        assert_fits(p, "appointment page, 390 px")
        assert_accessible(p, "appointment page, 390 px")
        screenshot(p, "appointment-page-phone")
        en = phone.new_page()
        en.goto(f"{server.url}/a/{public_id}?lang=en")
        expect(en.locator("#state-main")).to_have_text("Booked")
        assert_accessible(en, "appointment page en, 390 px")
        en.close()
        # Another booking, cancelled from its page: asked first, then said so, and its place is free again.
        other = requests.post(f"{server.url}/api/v1/public/appointments", timeout=10, json={
            "office": "demo", "service": "HT", "start": utc(10, 0), "name": "Vũ Thị Lan", "phone": "0912000009"}).json()
        assert "public_id" in other, other
        p.goto(f"{server.url}/a/{other['public_id']}?lang=vi")  # the English look above set the language
        p.get_by_role("button", name="Huỷ lịch hẹn").click()
        expect(p.locator("#confirm")).to_be_visible()
        assert_accessible(p, "appointment page, cancel asked, 390 px")
        p.get_by_role("button", name="Đồng ý hủy").click()
        expect(p.locator("#state-main")).to_have_text("Lịch hẹn đã hủy", timeout=TIMEOUT)
        expect(p.locator("#cancel")).to_have_count(0)
        free = requests.get(f"{server.url}/api/v1/public/slots?office=demo&service=HT&date=2026-09-07", timeout=10).json()["slots"]
        assert next(x["left"] for x in free if x["start"] == utc(10, 0)) == 2
    finally:
        phone.close()
    assert not refused, refused

    # A second citizen books 09:15 too, to type the code at the kiosk.
    second = requests.post(f"{server.url}/api/v1/public/appointments", timeout=10,
                           json={"office": "demo", "service": "HT", "start": utc(9, 15), "name": "Đỗ Quang Hải", "phone": "0912000002"}).json()

    # ---- the kiosk: a walk-in, then the appointments ----------------------------------------------
    kiosk_ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    clerk_ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    try:
        k = kiosk_ctx.new_page()
        open_kiosk(k, server)
        walk_in = tap_field(k, "HT")
        k.locator("#done").click()
        expect(k.locator("#screen-start")).to_be_visible()

        scan(k, f"{server.url}/a/{public_id}")  # the appointment page's QR
        scanned = ticket_on_screen(k)
        expect(k.locator("#r-appointment")).to_have_text("Lịch hẹn 09:15–09:30")
        expect(k.locator("#r-arrival")).to_have_attribute("data-arrival", "in_window")
        assert_fits(k, "kiosk appointment ticket, portrait")
        assert_accessible(k, "kiosk appointment ticket, portrait")
        k.locator("#done").click()

        type_code(k, second["code"])
        typed = ticket_on_screen(k)
        expect(k.locator("#r-appointment")).to_have_text("Lịch hẹn 09:15–09:30")
        k.locator("#done").click()

        type_code(k, late["code"])
        came_late = ticket_on_screen(k)
        expect(k.locator("#r-arrival")).to_have_attribute("data-arrival", "late")
        expect(k.locator("#r-arrival")).to_contain_text("muộn")
        k.locator("#done").click()

        # Scanning the same page again: its ticket exists already, said in Vietnamese.
        scan(k, f"{server.url}/a/{public_id}")
        expect(k.locator("#message-main")).to_have_text("Lịch hẹn này đã được dùng để lấy số.", timeout=TIMEOUT)

        # ---- the counter: marks, the booked name, and the calls' order ----------------------------
        c = clerk_ctx.new_page()
        staff = server.demo.clerk(1)
        sign_in(c, server, staff)
        row = c.locator(".wt", has=c.locator(f'.wcode:text-is("{scanned["code"]}")'))
        expect(row.locator(".badge-appt")).to_have_text("Lịch hẹn 09:15", timeout=TIMEOUT)
        expect(row.locator(".wbooked")).to_have_text("Lê Thị Hoa")
        late_row = c.locator(".wt", has=c.locator(f'.wcode:text-is("{came_late["code"]}")'))
        expect(late_row.locator(".badge-appt")).to_have_text("Lịch hẹn 08:00")
        listed = [x.strip() for x in c.locator("#waiting-list .wcode").all_inner_texts()]
        assert listed[:4] == [scanned["code"], typed["code"], walk_in["code"], came_late["code"]], listed

        c.keyboard.press("1")  # call next
        expect(c.locator("#cur-code")).to_have_text(scanned["code"], timeout=TIMEOUT)
        expect(c.locator("#cur-appointment")).to_have_text("Lịch hẹn 09:15")
        expect(c.locator("#cur-booked")).to_have_text("Người đặt lịch: Lê Thị Hoa")
        screenshot(c, "counter-appointment")

        # The hall display: a small mark beside the number, never the name.
        hall = kiosk_ctx.new_page()
        hall.set_viewport_size({"width": 1920, "height": 1080})
        hall.goto(f"{server.url}/display/?token={server.demo.devices['Màn hình sảnh']}")
        expect(hall.locator("#current-call .h-call-code")).to_contain_text(scanned["code"], timeout=TIMEOUT)
        expect(hall.locator("#current-call .h-appt")).to_have_text("Lịch hẹn")
        expect(hall.locator('#counters [data-counter="1"] .h-appt')).to_have_text("Lịch hẹn")
        assert "Lê Thị Hoa" not in hall.content()
        hall.close()

        # The rest in the queue's order: the other appointment in its window, the walk-in, the late one.
        h = staff.headers
        called = []
        for _ in range(3):
            assert requests.post(f"{server.url}/api/v1/counters/1/start", headers=h, timeout=10).status_code == 200
            assert requests.post(f"{server.url}/api/v1/counters/1/finish", headers=h, timeout=10).status_code == 200
            r = requests.post(f"{server.url}/api/v1/counters/1/next", headers=h, timeout=10)
            assert r.status_code == 200, r.text
            called.append(r.json()["ticket"]["code"])
        assert called == [typed["code"], walk_in["code"], came_late["code"]]
    finally:
        kiosk_ctx.close()
        clerk_ctx.close()
