"""The browser harness itself: Playwright drives Debian's Chromium, and the vendored
front-end files (socket.io client, Chart.js, Be Vietnam Pro) load and work offline."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# tests/conftest.py loads this plugin for the whole suite; naming it here as well keeps the
# module runnable on its own (pytest registers a plugin only once).
pytest_plugins = ["tests.support.browser"]

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "test-results"
STATIC_ROOT = REPO_ROOT / "motcua" / "static"
SAMPLE_TEXT = "Đặng Thị Hường — Xin mời công dân"

HARNESS_HTML = f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>motcua browser harness</title>
<link rel="stylesheet" href="/static/vendor/fonts/be-vietnam-pro/be-vietnam-pro.css">
<script src="/static/vendor/socket.io/socket.io.min.js"></script>
<script src="/static/vendor/chart.js/chart.umd.min.js"></script>
<style>
  body {{ font-family: "Be Vietnam Pro", sans-serif; margin: 24px; background: #fff; color: #10213a; }}
  h1 {{ font-weight: 800; font-size: 40px; margin: 0 0 8px; }}
  p {{ font-size: 28px; margin: 4px 0; }}
  .w400 {{ font-weight: 400; }} .w600 {{ font-weight: 600; }} .w700 {{ font-weight: 700; }}
  .fallback {{ font-family: "DejaVu Sans", sans-serif; color: #888; font-size: 20px; }}
</style>
</head>
<body>
<h1 id="sample">{SAMPLE_TEXT}</h1>
<p class="w400">400: Ă Â Ê Ô Ơ Ư Đ — ắ ằ ẳ ẵ ặ ế ề ể ễ ệ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ứ ừ ử ữ ự ỳ ỷ ỹ ỵ</p>
<p class="w600">600: Số thứ tự 1005 — quầy số 3</p>
<p class="w700">700: Trung tâm Phục vụ hành chính công</p>
<p class="fallback">(system font for comparison: {SAMPLE_TEXT})</p>
<canvas id="chart" width="480" height="240"></canvas>
</body>
</html>
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    """``/`` is the harness page; ``/static/...`` is served from ``motcua/static``."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".css": "text/css",
        ".woff2": "font/woff2",
    }
    served: list[str]

    def do_GET(self):
        path = urlsplit(self.path).path
        self.served.append(path)
        if path == "/":
            body = HARNESS_HTML.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if not path.startswith("/static/"):
            self.send_error(404)
            return
        super().do_GET()

    def translate_path(self, path):
        path = urlsplit(path).path
        return super().translate_path(path[len("/static") :])

    def log_message(self, format, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def static_server():
    served: list[str] = []
    handler = functools.partial(
        type("Handler", (_Handler,), {"served": served}), directory=str(STATIC_ROOT)
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="harness-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_vendored_files_are_in_place():
    for rel in (
        "vendor/socket.io/socket.io.min.js",
        "vendor/chart.js/chart.umd.min.js",
        "vendor/fonts/be-vietnam-pro/be-vietnam-pro.css",
        "vendor/VERSIONS.md",
    ):
        assert (STATIC_ROOT / rel).is_file(), f"missing {rel}: run scripts/vendor_frontend.sh"
    total = sum(f.stat().st_size for f in (STATIC_ROOT / "vendor").rglob("*") if f.is_file())
    assert total < 1_000_000, f"vendored files weigh {total} bytes"


def test_chromium_loads_vendored_assets(page, static_server):
    base, served = static_server
    outside: list[str] = []

    def only_local(route):
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:  # kiosks have no internet: nothing may come from elsewhere
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.set_viewport_size({"width": 1000, "height": 620})
    response = page.goto(base + "/", wait_until="load")
    assert response is not None and response.ok

    assert page.evaluate("typeof io") == "function"
    assert page.evaluate("typeof Chart") == "function"
    assert page.evaluate("Chart.version").startswith("4.")

    # Fonts: load every weight used on the page for the Vietnamese text, then check.
    loaded = page.evaluate(
        """async (text) => {
            const faces = [];
            for (const w of [400, 600, 700, 800]) {
                for (const f of await document.fonts.load(`${w} 16px "Be Vietnam Pro"`, text)) {
                    faces.push(`${f.family}|${f.weight}|${f.status}|${f.unicodeRange.slice(0, 12)}`);
                }
            }
            await document.fonts.ready;
            return faces;
        }""",
        SAMPLE_TEXT,
    )
    # Vietnamese text pulls the vietnamese and latin subsets (and latin-ext, whose range
    # overlaps Đ Ă Ơ Ư ...) for each of the four weights; all of them must have loaded.
    assert all("|loaded|" in face for face in loaded), loaded
    for weight in (400, 600, 700, 800):
        ranges = [face.split("|")[3] for face in loaded if face.split("|")[1] == str(weight)]
        assert any(r.startswith("U+102-103") for r in ranges), (weight, loaded)  # vietnamese
        assert any(r.startswith("U+0-FF") for r in ranges), (weight, loaded)  # latin
    assert page.evaluate("""() => document.fonts.check('16px "Be Vietnam Pro"')""")
    assert page.evaluate(
        """(t) => document.fonts.check('800 16px "Be Vietnam Pro"', t)""", SAMPLE_TEXT
    )
    # The vendored font really is used: it measures differently from the system fallback.
    widths = page.evaluate(
        """(text) => {
            const ctx = document.createElement('canvas').getContext('2d');
            const m = (font) => { ctx.font = font; return ctx.measureText(text).width; };
            return [m('28px "Be Vietnam Pro", monospace'), m('28px monospace')];
        }""",
        SAMPLE_TEXT,
    )
    assert abs(widths[0] - widths[1]) > 5, widths
    assert "/static/vendor/fonts/be-vietnam-pro/be-vietnam-pro-vietnamese-800-normal.woff2" in served
    assert "/static/vendor/fonts/be-vietnam-pro/be-vietnam-pro-latin-400-normal.woff2" in served

    # Chart.js draws a bar chart onto the canvas.
    painted = page.evaluate(
        """() => {
            const canvas = document.getElementById('chart');
            new Chart(canvas, {
                type: 'bar',
                data: {
                    labels: ['Hộ tịch', 'Đất đai', 'Tư pháp'],
                    datasets: [{ label: 'Số lượt', data: [12, 19, 7],
                                 backgroundColor: ['#1f6feb', '#d1242f', '#1a7f37'] }],
                },
                options: { animation: false, responsive: false, devicePixelRatio: 1 },
            });
            const ctx = canvas.getContext('2d');
            const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
            let opaque = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) opaque++;
            return { opaque, total: data.length / 4 };
        }"""
    )
    assert painted["opaque"] > 0.05 * painted["total"], painted

    assert outside == [], f"requests left the local server: {outside}"

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    shot = RESULTS_DIR / "browser-harness.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
