"""A tap at the kiosk prints on a real TCP ESC/POS printer; the printed QR opens the same
ticket the screen shows, and the screen says it printed."""

from __future__ import annotations

import pytest
import zxingcpp
from playwright.sync_api import Page, expect

from printers.raster import decode
from tests.support.kiosk_page import TIMEOUT, open_kiosk, tap_field
from tests.support.printing import config_with

pytestmark = pytest.mark.browser


def test_tap_prints_the_ticket_on_the_printer(live_server_factory, escpos_sink, tmp_path, page: Page) -> None:
    server = live_server_factory(config=config_with(tmp_path, escpos_sink.target))
    open_kiosk(page, server)
    shown = tap_field(page, "HT")
    job = escpos_sink.wait_job(timeout=20)
    codes = zxingcpp.read_barcodes(decode(job.payload).convert("L"))
    assert [c.text for c in codes] == [shown["status_url"]] == [f"{server.url}/t/{shown['public_id']}"]
    expect(page.locator("#r-print")).to_have_attribute("data-state", "printed", timeout=TIMEOUT)
    expect(page.locator("#r-print")).to_contain_text("Đã in phiếu")


def test_printer_out_of_paper_still_shows_a_valid_ticket(live_server_factory, escpos_sink, tmp_path, page: Page) -> None:
    escpos_sink.set_mode("paper_out")
    server = live_server_factory(config=config_with(tmp_path, escpos_sink.target, backup=escpos_sink.target, backup_conn="network"))
    open_kiosk(page, server)
    shown = tap_field(page, "CT")
    assert shown["code"] == "B001"
    expect(page.locator("#r-print")).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(page.locator("#r-print")).to_contain_text("vẫn có hiệu lực")
    assert escpos_sink.print_jobs() == []
