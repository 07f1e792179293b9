"""The kiosk's "I have a code" screen in Chromium, against a real `motcua serve`: a remote number's
check-in code typed on the screen's own keys checks the number in; a code that names nothing
is refused in Vietnamese with English beneath; the screen fits and passes axe-core."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from tests.support.browser import screenshot
from tests.support.env import DEMO_CONFIG
from tests.support.kiosk_page import TIMEOUT, open_kiosk
from tests.support.screen_checks import assert_accessible, assert_fits


def type_code(page: Page, code: str) -> None:
    """The citizen taps "I have a code" and the code's keys, then confirms."""
    page.locator("#code-button").click()
    expect(page.locator("#screen-code")).to_be_visible()
    for ch in code:
        page.locator(f'#code-keys [data-key="{ch}"]').click()
    expect(page.locator("#code-display")).to_have_attribute("data-code", code)
    page.locator("#code-submit").click()


def test_a_remote_number_checked_in_by_its_typed_code(live_server_factory, page: Page, tmp_path) -> None:
    config = tmp_path / "check-in.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("remote_check_in = false", "remote_check_in = true"), encoding="utf-8")
    server = live_server_factory(config=config)
    taken = requests.post(f"{server.url}/api/v1/public/tickets", json={"office": "demo", "service": "HT", "phone": "0912345123"}, timeout=10)
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    assert ticket["awaiting_check_in"] is True and len(ticket["check_in_code"]) == 6

    open_kiosk(page, server)
    page.locator("#code-button").click()
    expect(page.locator("#screen-code")).to_be_visible()
    expect(page.locator("#code-submit")).to_be_disabled()
    assert_fits(page, "kiosk code screen, portrait")
    assert_accessible(page, "kiosk code screen, portrait")
    screenshot(page, "kiosk-code-portrait")
    # The keys are the code alphabet only (no 0/O, 1/I/L); a wrong key is taken back with the erase key.
    keys = page.locator("#code-keys .c-key:not(.c-erase)").evaluate_all("(els) => els.map((e) => e.dataset.key).join('')")
    assert sorted(keys) == sorted("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
    page.locator('#code-keys [data-key="Z"]').click()
    expect(page.locator("#code-display")).to_have_attribute("data-code", "Z")
    page.locator('#code-keys [data-key="erase"]').click()
    expect(page.locator("#code-display")).to_have_attribute("data-code", "")
    page.locator(".c-actions .k-back").click()
    expect(page.locator("#screen-start")).to_be_visible()
    # In large text, and on a landscape screen, the keys still fit.
    page.locator("#large-toggle").click()
    page.locator("#code-button").click()
    assert_fits(page, "kiosk code screen, portrait, large text")
    page.set_viewport_size({"width": 1920, "height": 1080})
    assert_fits(page, "kiosk code screen, landscape, large text")
    assert_accessible(page, "kiosk code screen, landscape, large text")
    page.locator("#large-toggle").click()
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.locator(".c-actions .k-back").click()

    type_code(page, ticket["check_in_code"])
    expect(page.locator("#message-main")).to_have_text(f"Đã xác nhận có mặt. Số {ticket['code']} giữ nguyên chỗ, mời bạn chờ gọi.", timeout=TIMEOUT)
    status = requests.get(f"{server.url}/api/v1/tickets/{ticket['public_id']}", timeout=10).json()
    assert status["awaiting_check_in"] is False

    page.locator('[data-action="dismiss"]').click()
    wrong = "".join("Z" if c != "Z" else "Y" for c in ticket["check_in_code"])
    type_code(page, wrong)
    expect(page.locator("#message-main")).to_have_text("Không có lịch hẹn hay số lấy từ xa nào với mã này hôm nay. Hãy kiểm tra lại mã.",
                                                        timeout=TIMEOUT)
    expect(page.locator("#message-sub")).to_contain_text("code")
