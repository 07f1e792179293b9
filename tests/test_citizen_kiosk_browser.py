"""The kiosk's scanner in Chromium, against a real `motcua serve`: a CCCD and a dossier receipt
typed at scanner speed (a keyboard-wedge scanner), and a person typing, which is no scan."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.support.citizen_cards import CITIZENS, HUNG, LAN, RECEIPT
from tests.support.counter_page import sign_in
from tests.support.kiosk_page import KIOSK, TIMEOUT, ticket_from_api, ticket_on_screen

pytestmark = pytest.mark.browser
SCANNER_DELAY_MS = 4  # a USB scanner types a character every few milliseconds


def scan(page: Page, text: str) -> None:
    """What a wedge scanner does: the text at its speed, then Enter (line breaks are Enters too)."""
    for i, line in enumerate(text.split("\n")):
        if i:
            page.keyboard.press("Enter")
        page.keyboard.type(line, delay=SCANNER_DELAY_MS)
    page.keyboard.press("Enter")


def open_kiosk(page: Page, server) -> None:
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{server.url}/kiosk/?token={server.demo.devices[KIOSK]}")
    expect(page.locator("#fields .k-field")).to_have_count(4, timeout=TIMEOUT)


def test_a_card_scanned_at_the_kiosk(live_server_factory, page: Page) -> None:
    server = live_server_factory(config=CITIZENS)
    open_kiosk(page, server)
    panel = page.locator("#card-panel")
    expect(panel).to_be_hidden()

    # A person typing (slowly) is not a scan: nothing happens.
    page.keyboard.type("HT", delay=150)
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    expect(panel).to_be_hidden()
    expect(page.locator("#message")).to_be_hidden()

    scan(page, LAN.qr)
    expect(panel).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#card-hello")).to_have_text("Xin chào Lan")
    elderly = page.locator("#card-elderly")
    expect(elderly).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#card-privacy")).to_be_visible()
    # The same visit: a second scan does not show the notice again.
    scan(page, LAN.qr)
    expect(page.locator("#card-privacy")).to_be_hidden(timeout=TIMEOUT)

    page.locator('#fields [data-code="HT"]').click()
    shown = ticket_on_screen(page)
    api = ticket_from_api(server, shown["public_id"])
    assert shown["code"] == "A001" and api["priority"] == "elderly"
    expect(page.locator("#r-priority")).to_contain_text("Người cao tuổi")
    page.locator("#done").click()
    expect(panel).to_be_hidden()

    # The same card the same day: its waiting ticket, with a reprint, and no second ticket.
    scan(page, LAN.qr + "\r")
    expect(page.locator(".k-card-ticket")).to_contain_text("A001", timeout=TIMEOUT)
    expect(page.locator("#card-privacy")).to_be_visible()  # a new visit
    page.locator('#fields [data-code="HT"]').click()
    again = ticket_on_screen(page)
    assert again["public_id"] == shown["public_id"]
    expect(page.locator("#r-existing")).to_be_visible()
    page.locator("#r-reprint").click()
    expect(page.locator("#r-reprint")).to_have_text("Đã gửi lệnh in lại", timeout=TIMEOUT)
    page.locator("#done").click()

    # A younger citizen who declines nothing is offered nothing; the elderly one may decline.
    scan(page, HUNG.qr)
    expect(page.locator("#card-hello")).to_have_text("Xin chào Hùng", timeout=TIMEOUT)
    expect(elderly).to_be_hidden()
    page.locator('#fields [data-code="DD"]').click()
    hung = ticket_from_api(server, ticket_on_screen(page)["public_id"])
    assert hung["code"] == "C001" and hung["priority"] is None
    page.locator("#done").click()

    # An unreadable card: the kiosk says so.
    scan(page, LAN.qr.replace("001158", "001358"))
    expect(page.locator("#message")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#message-main")).to_have_text("Không đọc được thẻ, mời thử lại hoặc chọn lĩnh vực")
    page.locator('[data-action="dismiss"]').click()

    # Nothing of the cards reached the server's log.
    log = server.log.read_text(errors="replace")
    for secret in LAN.secrets + HUNG.secrets:
        assert secret not in log


def test_a_receipt_scanned_for_the_results_desk(live_server_factory, page: Page) -> None:
    server = live_server_factory(config=CITIZENS)
    open_kiosk(page, server)
    scan(page, RECEIPT)
    shown = ticket_on_screen(page)
    assert shown["code"] == "K001"
    expect(page.locator("#r-dossier")).to_have_text("Hồ sơ 000.00.12.H56-240101-0001")
    # The results desk calls it and hands the result back; the receipt then gets a message.
    h = server.demo.clerk(2).headers
    requests.post(f"{server.url}/api/v1/counters/2/next", headers=h, timeout=10).raise_for_status()
    requests.post(f"{server.url}/api/v1/counters/2/dossiers/000.00.12.H56-240101-0001/returned", headers=h, timeout=10).raise_for_status()
    page.locator("#done").click()
    scan(page, RECEIPT)
    expect(page.locator("#message")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#message-main")).to_contain_text("đã được trả kết quả")


def test_the_clerk_scans_a_receipt_into_the_dossier_box(live_server_factory, page: Page) -> None:

    server = live_server_factory(config=CITIZENS)
    requests.post(f"{server.url}/api/v1/tickets", json={"service": "DD"}, headers=server.demo.kiosk, timeout=10).raise_for_status()
    sign_in(page, server, server.demo.clerk(1))
    page.goto(server.url + "/counter/?n=1")
    box = page.locator("#dossiers")
    expect(box).to_be_hidden(timeout=TIMEOUT)
    page.locator('.act[data-action="next"]').click()
    expect(box).to_be_visible(timeout=TIMEOUT)
    page.locator("#dossier-code").focus()
    scan(page, RECEIPT)  # the whole multi-line receipt, at scanner speed: one code
    expect(page.locator("#dossier-list .dossier")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("#dossier-list .dossier-code")).to_have_text("000.00.12.H56-240101-0001 · 000.00.12.H56")
    # Typed by hand, with Enter.
    page.locator("#dossier-code").type("h56.22.10-230915-0001", delay=60)
    page.keyboard.press("Enter")
    expect(page.locator("#dossier-list .dossier")).to_have_count(2, timeout=TIMEOUT)
    page.locator('#dossier-list [data-code="H56.22.10-230915-0001"] .btn-quiet').click()
    expect(page.locator("#dossier-list .dossier")).to_have_count(1, timeout=TIMEOUT)
