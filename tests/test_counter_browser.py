"""The counter room in Chromium against a real `motcua serve`: a clerk signs in and calls, the
counter display (and the hall display, once the display room serves it) shows the number, the
keypad shortcuts work, and the rating pad asks for a rating after "finish" and not before."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select

from motcua.models import Rating, Ticket
from tests.support.browser import LOCALE, TIMEZONE, screenshot
from tests.support.counter_page import sign_in

pytestmark = pytest.mark.browser

WAIT = 10_000  # ms: generous for a loaded CI machine; nothing here measures time


def issue(server, service: str, priority: str | None = None) -> dict:
    r = requests.post(server.url + "/api/v1/tickets", json={"service": service, "priority": priority}, headers=server.demo.kiosk, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def device_page(browser, size: dict) -> Page:
    """A page in its own browser context, as on a separate device."""
    context = browser.new_context(locale=LOCALE, timezone_id=TIMEZONE, viewport=size)
    return context.new_page()


def ratings_in(server) -> list[tuple[str, int, str | None]]:
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        with engine.connect() as c:
            rows = c.execute(select(Ticket.code, Rating.score, Rating.reason).join(Ticket, Ticket.id == Rating.ticket_id).order_by(Rating.id))
            return [tuple(r) for r in rows]
    finally:
        engine.dispose()


def button(page: Page, name: str):
    return page.locator(".act", has_text=name)


def test_clerk_calls_displays_show_it_keypad_works_and_the_pad_rates_only_after_finish(live_server, browser, page: Page) -> None:
    server = live_server
    demo = server.demo
    first = issue(server, "HT")
    issue(server, "HT")
    issue(server, "CT")

    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, server, demo.clerk(1))
    waiting = page.locator("#waiting-list")
    expect(waiting).to_contain_text("A001", timeout=WAIT)
    expect(waiting).to_contain_text("B001")
    expect(page.locator("#cur-code")).to_have_text("Bấm 1 để gọi số tiếp theo")

    # The counter's own display, and the hall display when the display room serves it.
    counter_display = device_page(browser, {"width": 1024, "height": 600})
    counter_display.goto(f"{server.url}/counter/display?token={demo.devices['Màn hình quầy 1']}")
    expect(counter_display.locator("#cd-number")).to_have_text("1", timeout=WAIT)
    expect(counter_display.locator("#cd-code")).to_have_text("—", timeout=WAIT)
    assert "token=" not in counter_display.url  # the secret left the address bar
    hall = None
    if requests.get(server.url + "/display/", timeout=10).status_code == 200:
        hall = device_page(browser, {"width": 1920, "height": 1080})
        hall.goto(f"{server.url}/display/?token={demo.devices['Màn hình sảnh']}")
        hall.wait_for_load_state("networkidle")

    pad = device_page(browser, {"width": 1280, "height": 800})
    pad.goto(f"{server.url}/counter/rating?token={demo.devices['Đánh giá quầy 1']}")
    expect(pad.locator("#screen-idle")).to_be_visible(timeout=WAIT)
    expect(pad.locator("#idle-number")).to_have_text("1")

    # Click "Gọi số tiếp theo": every screen shows A001.
    page.get_by_role("button", name=re.compile("Gọi số tiếp theo")).click()
    expect(page.locator("#cur-code")).to_have_text("A001", timeout=WAIT)
    expect(page.locator("#cur-state")).to_have_text("Đang mời")
    expect(counter_display.locator("#cd-code")).to_have_text("A001", timeout=WAIT)
    expect(counter_display.locator("#cd-state")).to_have_text("Xin mời số")
    if hall is not None:
        expect(hall.locator("body")).to_contain_text("A001", timeout=WAIT)
    expect(pad.locator("#idle-code")).to_have_text("A001", timeout=WAIT)
    expect(button(page, "Gọi số tiếp theo")).to_be_disabled()  # the called citizen must start or be marked absent first

    # New tickets reach the waiting list live; a priority ticket is marked.
    issue(server, "HT", "elderly")
    issue(server, "DD")  # not served here: never listed
    expect(page.locator(".wt-prio")).to_contain_text("A003", timeout=WAIT)
    expect(page.locator(".wt-prio")).to_contain_text("Người cao tuổi")
    expect(waiting).not_to_contain_text("C001")

    # Keyboard shortcut 3 (as a USB keypad sends it): start. The call's change can show the number
    # before the call's own answer lands, and until then every action is held (one at a time): a
    # clerk presses when "Bắt đầu" lights up, and so does this test.
    expect(button(page, "Bắt đầu")).to_be_enabled(timeout=WAIT)
    page.keyboard.press("Numpad3")
    expect(page.locator("#cur-state")).to_have_text("Đang phục vụ", timeout=WAIT)
    expect(page.locator("#cur-elapsed-label")).to_have_text("Thời gian phục vụ")
    expect(counter_display.locator("#cd-state")).to_have_text("Đang phục vụ số", timeout=WAIT)

    # Before "finish" there is nothing to rate: the pad stays idle and the API refuses.
    expect(pad.locator("#screen-idle")).to_be_visible()
    expect(pad.locator("#screen-scale")).to_be_hidden()
    r = requests.post(server.url + "/api/v1/ratings", json={"ticket": first["public_id"], "score": 1},
                      headers=demo.device_headers("Đánh giá quầy 1"), timeout=10)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_finished")

    for service, priority in (("HT", None), ("CT", None), ("HT", "pregnant"), ("HT", None), ("CT", None)):
        issue(server, service, priority)  # a busier morning for the picture
    expect(waiting).to_contain_text("B003", timeout=WAIT)
    page.locator("#cur-elapsed").hover()  # no focus ring or hover on the buttons in the picture
    screenshot(page, "counter-page", size=(1366, 768))
    screenshot(counter_display, "counter-display")

    # Shortcut 4 (a plain digit): finish. The pad now shows the scale with a countdown.
    page.keyboard.press("4")
    expect(page.locator("#cur-code")).to_have_text("Bấm 1 để gọi số tiếp theo", timeout=WAIT)
    expect(pad.locator("#screen-scale")).to_be_visible(timeout=WAIT)
    expect(pad.locator("#scale-code")).to_have_text("A001")
    expect(pad.locator(".level")).to_have_count(4)
    expect(pad.locator("#screen-scale .js-left")).to_contain_text("giây")
    screenshot(pad, "rating-pad")
    pad.get_by_role("button", name=re.compile(r"^Hài lòng")).click()
    expect(pad.locator("#screen-thanks")).to_be_visible(timeout=WAIT)
    assert ratings_in(server) == [("A001", 2, None)]

    # Second citizen (the priority ticket goes first); a low rating asks for a reason.
    button(page, "Gọi số tiếp theo").click()
    expect(page.locator("#cur-code")).to_have_text("A003", timeout=WAIT)
    expect(page.locator("#cur-priority")).to_contain_text("Người cao tuổi")
    expect(button(page, "Bắt đầu")).to_be_enabled(timeout=WAIT)
    page.keyboard.press("3")
    expect(page.locator("#cur-state")).to_have_text("Đang phục vụ", timeout=WAIT)
    button(page, "Kết thúc").click()
    expect(pad.locator("#scale-code")).to_have_text("A003", timeout=WAIT)
    expect(pad.locator("#screen-scale")).to_be_visible()
    pad.get_by_role("button", name=re.compile(r"^Không hài lòng")).click()
    expect(pad.locator("#screen-reason")).to_be_visible()
    pad.locator("#reason-send").click()
    expect(pad.locator("#reason-error")).to_contain_text("Xin chọn hoặc ghi lý do")
    pad.locator(".reason-choice", has_text="Chờ đợi quá lâu").click()
    pad.fill("#reason-text", "Máy lấy số hết giấy")
    pad.locator("#reason-send").click()
    expect(pad.locator("#screen-thanks")).to_be_visible(timeout=WAIT)
    assert ratings_in(server)[-1] == ("A003", 4, "Chờ đợi quá lâu; Máy lấy số hết giấy")

    for p in (counter_display, pad) + ((hall,) if hall else ()):
        p.context.close()


def test_dialogs_show_api_errors_in_both_languages_and_pause_resume(live_server, page: Page) -> None:
    server = live_server
    issue(server, "HT")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, server, server.demo.clerk(1))
    expect(page.locator("#waiting-list")).to_contain_text("A001", timeout=WAIT)

    # Call a given number: a reason is required, an unknown number is refused by the API.
    page.keyboard.press("7")
    dialog = page.locator("#dlg-call")
    expect(dialog).to_be_visible()
    dialog.locator('input[name="code"]').fill("A999")
    dialog.locator('button[type="submit"]').click()
    expect(dialog.locator(".dlg-error")).to_contain_text("Hãy chọn hoặc nhập lý do.")
    expect(dialog.locator(".dlg-error")).to_contain_text("Choose or type a reason.")
    dialog.locator(".choice", has_text="Công dân quay lại bổ sung hồ sơ").click()
    dialog.locator('button[type="submit"]').click()
    expect(dialog.locator(".dlg-error")).to_contain_text("Không tìm thấy phiếu số A999 hôm nay.", timeout=WAIT)
    expect(dialog.locator(".dlg-error")).to_contain_text("Ticket A999 today not found.")
    dialog.locator('input[name="code"]').fill("a001")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden(timeout=WAIT)
    expect(page.locator("#cur-code")).to_have_text("A001", timeout=WAIT)

    # Transfer to Chứng thực, back of the queue.
    page.keyboard.press("6")
    transfer = page.locator("#dlg-transfer")
    expect(transfer).to_be_visible()
    expect(transfer.locator(".choice", has_text="Hộ tịch")).to_have_count(0)  # not to its own field
    transfer.locator(".choice", has_text="Chứng thực").click()
    transfer.locator(".choice", has_text="Xuống cuối hàng").click()
    transfer.locator('button[type="submit"]').click()
    expect(transfer).to_be_hidden(timeout=WAIT)
    expect(page.locator("#cur-code")).to_have_text("Bấm 1 để gọi số tiếp theo", timeout=WAIT)
    expect(page.locator(".wt", has_text="A001")).to_contain_text("Chuyển đến", timeout=WAIT)

    # Pause with a reason: only "Tiếp tục" stays usable; resume.
    page.keyboard.press("8")
    pause = page.locator("#dlg-pause")
    pause.locator('input[name="reason_text"]').fill("Sự cố máy in")
    pause.locator('button[type="submit"]').click()
    expect(page.locator("#counter-status")).to_have_text("Tạm dừng — Sự cố máy in", timeout=WAIT)
    expect(button(page, "Gọi số tiếp theo")).to_be_disabled()
    expect(button(page, "Tiếp tục")).to_be_enabled()
    page.keyboard.press("9")
    expect(page.locator("#counter-status")).to_have_text("Đang mở", timeout=WAIT)

    # Counter 2 is held by its own clerk: clerk 1 sees it, cannot act, and taking it is refused
    # by the API with Vietnamese and English beneath.
    r = requests.post(f"{server.url}/api/v1/counters/2/open", headers=server.demo.clerk(2).headers, timeout=10)
    assert r.status_code == 200
    page.goto(server.url + "/counter/?n=2")
    expect(page.locator("#counter-holder")).to_contain_text("Quầy đang do cán bộ khác phụ trách", timeout=WAIT)
    for name in ("Gọi số tiếp theo", "Gọi số cụ thể…", "Tạm dừng"):
        expect(button(page, name).first).to_be_disabled()
    page.locator("#btn-take").click()
    notice = page.locator("#notice")
    expect(notice).to_be_visible(timeout=WAIT)
    expect(notice.locator(".vi")).to_have_text("Bạn không phụ trách quầy 2.")
    expect(notice.locator(".en")).to_have_text("You do not hold counter 2.")


def test_banner_when_the_connection_drops_and_recovery_without_reload(live_server, browser, page: Page) -> None:
    server = live_server
    issue(server, "HT")
    sign_in(page, server, server.demo.clerk(1))
    expect(page.locator("#waiting-list")).to_contain_text("A001", timeout=WAIT)
    display = device_page(browser, {"width": 800, "height": 480})
    display.goto(f"{server.url}/counter/display?token={server.demo.devices['Màn hình quầy 1']}")
    expect(display.locator("#cd-number")).to_have_text("1", timeout=WAIT)
    page.evaluate("window.__sameDocument = true")

    server.stop()
    expect(page.locator("#conn-banner")).to_be_visible(timeout=WAIT)
    expect(page.locator("#conn-banner")).to_contain_text("Mất kết nối")
    expect(display.locator("#offline")).to_be_visible(timeout=WAIT)
    expect(display.locator("#offline")).to_contain_text("mất kết nối")

    server.start()
    issue(server, "HT")  # happened while the page was reconnecting, or just after
    expect(page.locator("#conn-banner")).to_be_hidden(timeout=WAIT)
    expect(display.locator("#offline")).to_be_hidden(timeout=WAIT)
    expect(page.locator("#waiting-list")).to_contain_text("A002", timeout=WAIT)
    button(page, "Gọi số tiếp theo").click()
    expect(display.locator("#cd-code")).to_have_text("A001", timeout=WAIT)
    assert page.evaluate("window.__sameDocument") is True  # recovered without a reload
    display.context.close()


def test_a_live_update_older_than_the_clerks_own_call_does_not_undo_it(live_server, page: Page) -> None:
    # The ticket's "issued" update reaches the page after the answer to the clerk's "next" (the
    # server sent it first, the network held it). It once put the counter back to idle, so the
    # clerk's "5" right after the call did nothing.
    server = live_server
    held: list[str] = []
    socket: dict = {}

    def hold_changes(ws) -> None:
        upstream = ws.connect_to_server()
        socket["page"] = ws

        def from_server(message) -> None:
            if socket.get("holding") and isinstance(message, str) and '"change"' in message:
                held.append(message)
            else:
                ws.send(message)

        upstream.on_message(from_server)

    page.route_web_socket(re.compile(r"/socket\.io/"), hold_changes)
    sign_in(page, server, server.demo.clerk(1))
    hint = page.locator("#cur-code")
    expect(hint).to_have_text("Bấm 1 để gọi số tiếp theo", timeout=WAIT)

    socket["holding"] = True
    code = issue(server, "HT")["code"]
    with page.expect_response(lambda r: "/waiting" in r.url, timeout=WAIT):
        page.keyboard.press("1")
    expect(hint).to_have_text(code, timeout=WAIT)
    assert held, "the ticket's issued update was held back"
    with page.expect_response(lambda r: "/waiting" in r.url, timeout=WAIT):
        socket["page"].send(held.pop(0))  # the issued update, older than the call the page shows
    expect(hint).to_have_text(code)
    page.keyboard.press("5")
    expect(page.locator("#dlg-noshow")).to_be_visible(timeout=WAIT)
    page.keyboard.press("Escape")
    socket["holding"] = False
    for message in held:
        socket["page"].send(message)
    expect(hint).to_have_text(code, timeout=WAIT)
