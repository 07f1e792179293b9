"""The manager pages in a browser, signed in as the admin of the 12-field office."""

from __future__ import annotations

from tests.support.live import LiveServer

WAIT = 10_000  # ms: generous for a loaded CI machine; nothing here measures time


def sign_in(page, server: LiveServer) -> None:
    staff = server.demos["lon"].admin  # an admin of the office: every manager page, printers too
    page.goto(f"{server.url}/login?next=/manager/")
    page.fill("input[name=username]", staff.username)
    page.fill("input[name=password]", staff.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/manager/")
