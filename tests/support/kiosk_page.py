"""The kiosk's touch page in Chromium: open it with the demo kiosk's token, tap a field."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

PORTRAIT = {"width": 1080, "height": 1920}
KIOSK = "Kiosk sảnh"
TIMEOUT = 15_000


def open_kiosk(page: Page, server, size: dict = PORTRAIT, query: str = "") -> None:
    page.set_viewport_size(size)
    token = server.demo.devices[KIOSK]
    page.goto(f"{server.url}/kiosk/?token={token}{query}")
    expect(page.locator("#screen-start")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#fields .k-field")).to_have_count(5, timeout=TIMEOUT)


def tap_field(page: Page, code: str, container: str = "#fields") -> dict:
    """Tap a field and wait for the ticket screen; returns what the screen shows."""
    page.locator(f'{container} [data-code="{code}"]').click()
    return ticket_on_screen(page)


def ticket_on_screen(page: Page) -> dict:
    result = page.locator("#screen-result")
    expect(result).to_be_visible(timeout=TIMEOUT)
    return {
        "code": page.locator("#r-number").inner_text().strip(),
        "public_id": result.get_attribute("data-public-id"),
        "status_url": result.get_attribute("data-status-url"),
        "print_job": result.get_attribute("data-print-job"),
    }


def ticket_from_api(server, public_id: str) -> dict:
    r = requests.get(f"{server.url}/api/v1/tickets/{public_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()
