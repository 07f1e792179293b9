"""Every manager page in Chromium with the office of 12 long fields and 12 counters
(tests/data/office12.toml), under the real Content-Security-Policy: axe-core finds nothing
serious or critical, each page has its landmarks and one level-one heading, and no text is cut
at 1440×900 or 1366×768. Screenshots of the main pages go to docs/screenshots/."""

from __future__ import annotations

import copy
import os
import shutil

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select

from motcua.models import Counter, Device, Printer, PriorityGroup, Service, User
from tests.support.browser import screenshot
from tests.support.env import OFFICE12, free_port
from tests.support.live import LiveServer, spawn, wait_for_http
from tests.support.manager_page import WAIT, sign_in
from tests.support.screen_checks import assert_accessible, assert_fits

pytestmark = pytest.mark.browser

SIZES = ((1440, 900), (1366, 768))


@pytest.fixture(scope="module")
def office12(tmp_path_factory, sqlite_templates) -> LiveServer:
    """One server for the module (every page is read, nothing is changed): the office of 12 with
    three counters open, two citizens called, one served and a few waiting in each field."""
    instance = tmp_path_factory.mktemp("office12")
    db_file, secret, demos = sqlite_templates(OFFICE12)
    shutil.copy(db_file, instance / "motcua.db")
    shutil.copy(secret, instance / "secret_key")
    port = free_port()
    env = {**os.environ, "MOTCUA_CONFIG": str(OFFICE12), "MOTCUA_INSTANCE": str(instance),
           "DATABASE_URL": f"sqlite:///{instance}/motcua.db", "MOTCUA_HOST": "127.0.0.1", "MOTCUA_PORT": str(port),
           "PYTHONUNBUFFERED": "1", "MOTCUA_DAYEND": "off"}
    log = instance / "server.log"
    server = LiveServer(f"http://127.0.0.1:{port}", spawn(env, log), env, copy.deepcopy(demos), log)
    try:
        wait_for_http(server.url + "/api/v1/services", server.process, log)
        demo = server.demos["lon"]
        api = requests.Session()
        for number in (1, 2, 3):
            assert api.post(f"{server.url}/api/v1/counters/{number}/open", headers=demo.clerk(number).headers, timeout=10).status_code == 200
        for field in ("HT", "HT", "CT", "DD", "KD", "XH", "XD", "TP", "GD", "YT", "NN", "VH", "TKQ", "CT"):
            r = api.post(f"{server.url}/api/v1/tickets", json={"service": field}, headers=demo.kiosk, timeout=10)
            assert r.status_code == 201, r.text
        for number in (1, 2):
            assert api.post(f"{server.url}/api/v1/counters/{number}/next", headers=demo.clerk(number).headers, timeout=10).status_code == 200
        api.post(f"{server.url}/api/v1/counters/1/start", headers=demo.clerk(1).headers, timeout=10)
        yield server
    finally:
        server.stop()


def first_ids(server: LiveServer) -> dict[str, int]:
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        with engine.connect() as c:
            return {name: c.scalar(select(model.id).order_by(model.id).limit(1))
                    for name, model in (("fields", Service), ("counters", Counter), ("priority", PriorityGroup),
                                        ("printers", Printer), ("devices", Device), ("users", User))}
    finally:
        engine.dispose()


# (name, path, screenshot?) ; "{fields}" and the like are the office's first row of that kind.
PAGES = [
    ("dashboard", "/manager/", True),
    ("reports", "/manager/reports?group_by=service", True),
    ("reports-by-counter", "/manager/reports?group_by=counter", False),
    ("monthly", "/manager/reports/monthly", True),
    ("config", "/manager/config/", True),
    ("fields", "/manager/config/fields", True),
    ("field-new", "/manager/config/fields/new", False),
    ("field-edit", "/manager/config/fields/{fields}", True),
    ("counters", "/manager/config/counters", True),
    ("counter-new", "/manager/config/counters/new", False),
    ("counter-edit", "/manager/config/counters/{counters}", True),
    ("priority", "/manager/config/priority", False),
    ("group-new", "/manager/config/priority/new", False),
    ("group-edit", "/manager/config/priority/{priority}", False),
    ("printers", "/manager/config/printers", False),
    ("printer-new", "/manager/config/printers/new", False),
    ("printer-edit", "/manager/config/printers/{printers}", False),
    ("devices", "/manager/config/devices", True),
    ("device-new", "/manager/config/devices/new", False),
    ("device-edit", "/manager/config/devices/{devices}", False),
    ("users", "/manager/config/users", True),
    ("user-new", "/manager/config/users/new", False),
    ("user-edit", "/manager/config/users/{users}", False),
    ("schedule", "/manager/config/schedule", False),
    ("alerts", "/manager/config/alerts", False),
    ("announcements", "/manager/config/announcements", False),
    ("ratings", "/manager/config/ratings", False),
    ("kiosk", "/manager/config/kiosk", False),
    ("audit", "/manager/config/audit", True),
    ("notifications", "/manager/notifications", False),
]


@pytest.mark.parametrize(("name", "path", "shot"), PAGES, ids=[p[0] for p in PAGES])
def test_manager_page_is_accessible_and_fits(page: Page, office12: LiveServer, name: str, path: str, shot: bool) -> None:
    sign_in(page, office12)
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    r = page.goto(office12.url + path.format(**first_ids(office12)))
    assert r is not None and r.status == 200, (path, r and r.status)
    if name == "dashboard":  # the live part has arrived
        expect(page.locator(".counter-card[data-number='1'] .ticket")).to_have_text("A001", timeout=WAIT)
        # Open counters are named as counters, never bare numbers that read like counts.
        expect(page.locator("#fields tr[data-code='CT'] td").nth(3)).to_have_text("Quầy 1, Quầy 2")
        expect(page.locator("#fields tr[data-code='TKQ'] td").nth(3)).to_have_text("Chưa có quầy mở")
    if name.startswith("reports"):
        page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 3")
    # Landmarks and one level-one heading, as a screen reader user finds their way.
    assert page.locator("h1").count() == 1, name
    for landmark in ("header", "nav", "main"):
        assert page.locator(landmark).count() >= 1, (name, landmark)
    assert_accessible(page, f"manager {name}")
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        assert_fits(page, f"manager {name} at {width}×{height}")
        # No table hides columns behind a scroll bar at these sizes.
        wide = page.evaluate("""() => [...document.querySelectorAll('.table-wrap')]
            .filter((w) => w.scrollWidth > w.clientWidth + 1)
            .map((w) => (w.querySelector('table') || w).id || w.querySelector('th')?.textContent)""")
        assert not wide, f"tables wider than the screen on {name} at {width}×{height}: {wide}"
        if shot:
            if name == "reports":  # the summary table, the widest thing of the manager pages
                page.evaluate("() => document.querySelector('table.summary').closest('.table-wrap').previousElementSibling.scrollIntoView()")
            screenshot(page, f"manager-{name}-{width}x{height}")


def test_refused_forms_say_what_to_do_under_each_input(page: Page, office12: LiveServer) -> None:
    """Spaces for a name, a bad prefix, a counter with no field: plain Vietnamese under each input,
    English on the English page, and the page with its errors stays accessible and fits."""
    ids = first_ids(office12)
    sign_in(page, office12)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{office12.url}/manager/config/fields/{ids['fields']}")
    page.fill("#name", "   ")
    page.fill("#prefix", "a1")
    page.click(".mgr-form button[type=submit]")
    expect(page.locator("#name-error")).to_have_text("Ô này cần được điền: hãy nhập nội dung (chỉ dấu cách thì không tính).")
    assert page.get_attribute("#name", "aria-describedby") == "name-error"
    page.fill("#name", "Hộ tịch")
    page.click(".mgr-form button[type=submit]")
    expect(page.locator("#prefix-error")).to_contain_text("Tiền tố là 0–3 chữ cái in hoa không dấu")
    expect(page.locator("main")).not_to_contain_text("String should match")
    assert_accessible(page, "manager field form with an error")
    assert_fits(page, "manager field form with an error at 1366×768")

    page.goto(f"{office12.url}/manager/config/counters/{ids['counters']}?lang=en")
    for weight in page.locator(".weights input").all():
        weight.fill("")
    page.click(".mgr-form button[type=submit]")
    expect(page.locator("#weights-error")).to_have_text(
        "A counter must serve at least one field: type a weight (e.g. 1) next to each field it serves.")
    expect(page.locator("main")).not_to_contain_text("Dictionary should have")
    assert_accessible(page, "manager counter form with an error (English)")
    screenshot(page, "manager-counter-edit-error-1366x768")
