"""The screen checks themselves (tests/support/screen_checks.py): they must see what a person sees."""

from __future__ import annotations

import pytest

from tests.support.screen_checks import axe_violations, overflowing

pytestmark = pytest.mark.browser

CSP = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'"


@pytest.fixture
def strict_page(browser):
    """A page of its own: these tests make the policy refuse things on purpose, which the shared
    ``page`` fixture would count as a failure."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def serve(page, html: str) -> None:
    """Serve one page from a made-up origin with motcua's kind of strict policy (no network)."""
    page.route("http://screens.test/", lambda route: route.fulfill(
        body=html, content_type="text/html; charset=utf-8", headers={"Content-Security-Policy": CSP}))
    page.goto("http://screens.test/")


def test_axe_runs_under_the_strict_policy_and_finds_real_problems(strict_page) -> None:
    page = strict_page
    serve(page, """<!doctype html><html lang="vi"><head><title>t</title></head><body>
        <main><h1>Lấy số</h1><script>document.title = "inline ran"</script><button style="color:#777;background:#888">Hộ tịch</button>
        <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body></html>""")
    found = {v["id"] for v in axe_violations(page, "a page with two faults")}
    assert {"color-contrast", "image-alt"} <= found
    assert page.title() == "t"  # the page's own inline script was refused: the policy holds


def test_a_clean_page_has_no_blocking_violation(strict_page) -> None:
    page = strict_page
    serve(page, """<!doctype html><html lang="vi"><head><title>Kiosk</title></head><body>
        <main><h1>Lấy số thứ tự</h1><button style="color:#000;background:#fff">Hộ tịch</button></main></body></html>""")
    assert axe_violations(page, "a clean page") == []


def test_overflow_sees_clipped_and_ellipsis_text_but_not_wrapped_text(strict_page) -> None:
    page = strict_page
    page.set_viewport_size({"width": 800, "height": 600})
    serve(page, """<!doctype html><html lang="vi"><head><title>t</title></head><body><main>
        <div id="clip" style="width:80px;overflow:hidden;white-space:nowrap">Lao động, thương binh và xã hội</div>
        <div id="dots" style="width:80px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">Đăng ký kinh doanh, đầu tư</div>
        <div id="wrap" style="width:80px">Lao động, thương binh và xã hội</div>
        <div id="wide" style="position:absolute;left:700px;white-space:nowrap">Số người đang chờ: 12</div>
        </main></body></html>""")
    cut = {item["id"]: item["why"] for item in overflowing(page)}
    assert cut == {"clip": "cut across", "dots": "cut across", "wide": "outside the screen"}
