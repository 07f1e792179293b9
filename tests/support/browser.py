"""Browser tests: Playwright's sync API driving Debian's Chromium.

Loaded by ``tests/conftest.py`` with ``pytest_plugins = ["tests.support.browser"]``.

Fixtures
  ``chromium_path`` (session)  the Chromium executable; skips when it is missing, fails
                               instead when ``MOTCUA_REQUIRE_SERVICES=1`` (CI never skips).
  ``browser`` (session)        a headless Chromium launched through Playwright.
  ``page`` (function)          a fresh context (vi-VN, Asia/Ho_Chi_Minh) and page; when the
                               test fails, a screenshot and the page's console go to
                               ``test-results/``.
Helper
  ``screenshot(page, name, *, size=None)`` saves ``docs/screenshots/<name>.png`` for the docs.

Notes
  * Never run ``playwright install``: we use the distribution's browser
    (``apt-get install chromium``) or the one named by ``MOTCUA_CHROMIUM``.
  * Debian's ``/usr/bin/chromium`` is a shell wrapper that sources ``/etc/chromium.d/*``
    (extra flags such as ``--enable-gpu-rasterization``, ``--load-extension=...``) and whose
    /dev/shm check breaks when /dev/shm is mounted twice (containers). We launch the real
    binary next to it, ``/usr/lib/chromium/chromium``, with our own flags only.
  * The sync API is bound to the thread that started it: drive ``page`` from the test's
    thread only (servers under test may run in other threads), and do not use it inside a
    running asyncio loop.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.support.env import REPO, skip_or_fail

RESULTS_DIR = REPO / "test-results"
SCREENSHOTS_DIR = REPO / "docs" / "screenshots"

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Where Debian's wrapper script execs the real browser.
DEBIAN_CHROMIUM_BINARY = "/usr/lib/chromium/chromium"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

LOCALE = "vi-VN"
TIMEZONE = "Asia/Ho_Chi_Minh"

_reports = pytest.StashKey[dict]()


def _is_shell_script(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return False


def _chromium_args() -> list[str]:
    args = list(CHROMIUM_ARGS)
    # Docker's default /dev/shm is 64 MB: Chromium then crashes on big pages ("Aw, Snap!").
    try:
        if shutil.disk_usage("/dev/shm").free < 512 * 1024 * 1024:
            args.append("--disable-dev-shm-usage")
    except OSError:
        args.append("--disable-dev-shm-usage")
    return args


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the item so fixtures can see the outcome."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


def _failed(node) -> bool:
    reports = node.stash.get(_reports, {})
    return any(rep.failed for rep in reports.values())


def _safe_name(nodeid: str) -> str:
    """``tests/test_x.py::test_y[a-b]`` -> ``tests-test_x-test_y-a-b`` (no dots, no slashes)."""
    name = nodeid.replace(".py::", "-").replace("::", "-")
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:180] or "test"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    configured = os.environ.get("MOTCUA_CHROMIUM")
    path = configured or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        if configured:
            skip_or_fail(f"MOTCUA_CHROMIUM={configured} is not an executable file")
        skip_or_fail("Debian chromium is not installed: apt-get install chromium")
    if (
        path == DEFAULT_CHROMIUM
        and _is_shell_script(path)
        and os.access(DEBIAN_CHROMIUM_BINARY, os.X_OK)
    ):
        path = DEBIAN_CHROMIUM_BINARY
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright Python package is not installed: pip install -e '.[test]'")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=_chromium_args(),
        )
    except Exception:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        try:
            chromium.close()
        finally:
            playwright.stop()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale=LOCALE, timezone_id=TIMEZONE)
    pg = context.new_page()
    console: list[str] = []
    pg.on("console", lambda msg: console.append(f"console.{msg.type}: {msg.text}"))
    pg.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    pg.on(
        "requestfailed",
        lambda req: console.append(f"requestfailed: {req.method} {req.url} {req.failure}"),
    )
    try:
        yield pg
        # Every page runs under the strict Content-Security-Policy (no inline script): a page
        # that still relies on one breaks silently for users, so any refusal fails its test.
        refused = [line for line in console if "Content Security Policy" in line]
        if refused:
            pytest.fail("the Content-Security-Policy refused something:\n" + "\n".join(refused))
    finally:
        try:
            if _failed(request.node) and not pg.is_closed():
                RESULTS_DIR.mkdir(parents=True, exist_ok=True)
                stem = _safe_name(request.node.nodeid)
                try:
                    pg.screenshot(path=str(RESULTS_DIR / f"{stem}.png"), full_page=True, timeout=10_000)
                except Exception as exc:  # a crashed page must not hide the real failure
                    console.append(f"(screenshot failed: {exc})")
                (RESULTS_DIR / f"{stem}.console.txt").write_text(
                    f"url: {pg.url}\n" + "\n".join(console) + "\n", encoding="utf-8"
                )
        finally:
            context.close()


def phone_context(browser, viewport: dict, **options):
    """A citizen's phone: Vietnamese, the office's time zone, touch."""
    return browser.new_context(locale=LOCALE, timezone_id=TIMEZONE, viewport=viewport, is_mobile=True, has_touch=True, **options)


def csp_refusals(page) -> list[str]:
    """The Content-Security-Policy refusals the page logs from now on (the `page` fixture's check,
    for pages opened in a context of a test's own)."""
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    return refused


def screenshot(page, name: str, *, size: tuple[int, int] | None = None) -> Path:
    """Save a documentation screenshot to ``docs/screenshots/<name>.png``.

    ``size`` = (width, height) resizes the viewport first (e.g. (1080, 1920) for a
    portrait kiosk, (1920, 1080) for a hall TV). Waits for web fonts so the picture shows
    Be Vietnam Pro, and freezes CSS animations so the pictures are stable.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"screenshot name must be a plain file name, got {name!r}")
    if name.endswith(".png"):
        name = name[: -len(".png")]
    if size is not None:
        width, height = size
        page.set_viewport_size({"width": int(width), "height": int(height)})
    page.evaluate("() => document.fonts.ready.then(() => true)")
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled")
    return path
