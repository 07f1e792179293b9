"""A citizen at home takes a remote number on a phone (360×740): /q/demo, a field, the phone
number, then the ticket's own status page marked as remote; every screen fits and passes axe-core,
in Vietnamese and English, and so does the public wait board."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import csp_refusals, phone_context, screenshot
from tests.support.screen_checks import assert_accessible, assert_fits

PHONE = {"width": 360, "height": 740}


def test_take_a_remote_number_on_a_phone(live_server, browser) -> None:
    ctx = phone_context(browser, PHONE)
    try:
        page = ctx.new_page()
        refused = csp_refusals(page)
        page.goto(live_server.url + "/q/")
        page.get_by_role("link", name="Trung tâm Phục vụ hành chính công xã Minh Khai (demo)").click()
        expect(page.get_by_role("heading", name="Lấy số từ xa")).to_be_visible()
        assert_fits(page, "remote number page, 360 px")
        assert_accessible(page, "remote number page, 360 px")
        screenshot(page, "remote-number-phone")
        # Nothing chosen: the page says so, in Vietnamese.
        page.get_by_role("button", name="Lấy số").click()
        expect(page.locator("#error")).to_have_text("Vui lòng chọn lĩnh vực.")
        page.get_by_role("radio", name="Hộ tịch").check()
        page.get_by_label("Số điện thoại").fill("0912 345 123")
        page.get_by_role("button", name="Lấy số").click()
        page.wait_for_url("**/t/*")
        expect(page.locator("#code")).to_have_text("A001")
        expect(page.locator("#remote")).to_contain_text("Lấy số từ xa")
        expect(page.locator("#phone-mask")).to_have_text("09xx xxx 123")
        assert_fits(page, "remote ticket status, 360 px")
        assert_accessible(page, "remote ticket status, 360 px")
        screenshot(page, "remote-ticket-status-phone")
        # The same phone again, in English: the day's limit, in English.
        page.goto(live_server.url + "/q/demo?lang=en")
        assert_fits(page, "remote number page en, 360 px")
        assert_accessible(page, "remote number page en, 360 px")
        page.get_by_role("radio", name="Certification of copies and signatures").check()
        page.get_by_label("Phone number").fill("+84912345123")
        page.get_by_role("button", name="Take a number").click()
        expect(page.locator("#error")).to_have_text("This phone has already taken 1 number(s) today.")
        # The public wait board shows the citizen waiting.
        page.goto(live_server.url + "/public/demo?lang=vi")
        expect(page.locator('tr[data-code="HT"] [data-col="waiting"]')).to_have_text("1")
        assert_fits(page, "public wait board, 360 px")
        assert_accessible(page, "public wait board, 360 px")
        screenshot(page, "public-board-phone")
    finally:
        ctx.close()
    assert not refused, refused
