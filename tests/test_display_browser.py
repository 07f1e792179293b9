"""The hall display and the voice page in Chromium, against a real `motcua serve`."""

from __future__ import annotations

import io
import math
import re
import wave
from array import array
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from motcua.db import Database
from tests.support.browser import CHROMIUM_ARGS, screenshot
from tests.support.engine import Driver as EngineDriver
from tests.support.live import LiveServer
from tests.support.realtime import call_next, comparable, issue, server_snapshot

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

HALL = "Màn hình sảnh"
FONTS = Path(__import__("fontpkg_be_vietnam_pro").__file__).parent / "files"


def open_hall(page, server: LiveServer, token: str | None = None) -> None:
    page.goto(f"{server.url}/display/?token={token or server.demo.devices[HALL]}")
    expect(page.locator("#app")).to_be_visible(timeout=15_000)


def shown_calls(page) -> list[str]:
    """The current call, then the recent ones, as the screen shows them."""
    current = page.locator("#current-call .h-call-code").all_inner_texts()
    return current + page.locator("#recent-calls .code").all_inner_texts()


def page_state(page) -> dict:
    return page.evaluate("() => JSON.parse(JSON.stringify(window.motcuaDisplay.state))")


def procedure_slide(path: Path) -> None:
    """A procedure-guide slide such as a centre puts in its media folder."""
    img = Image.new("RGB", (1280, 720), "#f7f4ec")
    d = ImageDraw.Draw(img)
    bold = ImageFont.truetype(str(FONTS / "BeVietnamPro-Bold.ttf"), 50)
    body = ImageFont.truetype(str(FONTS / "BeVietnamPro-Regular.ttf"), 34)
    small = ImageFont.truetype(str(FONTS / "BeVietnamPro-Medium.ttf"), 28)
    d.rectangle([0, 0, 1280, 110], fill="#b3121a")
    d.text((50, 26), "Hướng dẫn: Đăng ký khai sinh", font=bold, fill="white")
    d.text((50, 145), "Hồ sơ cần chuẩn bị:", font=small, fill="#5b6573")
    steps = ["Tờ khai đăng ký khai sinh (theo mẫu)", "Giấy chứng sinh do cơ sở y tế cấp", "Giấy tờ tùy thân của cha hoặc mẹ",
             "Giấy chứng nhận kết hôn (nếu có)"]
    for i, step in enumerate(steps):
        y = 200 + i * 78
        d.ellipse([50, y, 100, y + 50], fill="#b3121a")
        d.text((75, y + 25), str(i + 1), font=small, fill="white", anchor="mm")
        d.text((125, y + 4), step, font=body, fill="#111827")
    d.rounded_rectangle([50, 540, 1230, 680], radius=18, fill="#fff3c4")
    d.text((80, 560), "Thời hạn giải quyết: ngay trong ngày", font=body, fill="#111827")
    d.text((80, 615), "Lệ phí: miễn phí nếu đăng ký đúng hạn", font=body, fill="#111827")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def test_the_hall_shows_a_call_and_recovers_the_exact_state_after_a_restart(live_server: LiveServer, page) -> None:
    demo = live_server.demo
    open_hall(page, live_server)
    # The token went to local storage and out of the address bar.
    assert "token=" not in page.url
    assert page.evaluate("() => localStorage.getItem('motcua.display.token')") == demo.devices[HALL]
    page.evaluate("() => { window.__sameDocument = 'yes'; }")
    loaded_at = page.evaluate("() => motcuaDisplay.loadedAt")

    ticket = issue(live_server, demo)
    call_next(live_server, demo, 1)
    expect(page.locator("#current-call .h-call-code")).to_have_text(ticket["code"])
    expect(page.locator("#current-call .h-call-counter")).to_have_text("→Quầy 1")
    expect(page.locator("#current-call")).to_have_class(re.compile(r"\bflash\b"))  # the newest blinks
    expect(page.locator("#ticker")).to_have_text(f"Xin mời công dân có số thứ tự {ticket['code']} đến quầy số 1")
    expect(page.locator('#counters [data-counter="1"] .ticket')).to_have_text(ticket["code"])
    first_call = server_snapshot(live_server, demo)["recent_calls"][0]["id"]
    page.wait_for_function(f"() => motcuaDisplay.played.includes({first_call})")  # its audio was fetched and played

    live_server.stop()
    expect(page.locator("#offline")).to_be_visible(timeout=10_000)
    expect(page.locator("#offline")).to_contain_text("Mất kết nối")
    screenshot(page, "display-offline", size=(1366, 768))
    # The office moves on while this display is cut off.
    db = Database(live_server.env["DATABASE_URL"])
    try:
        engine = EngineDriver(db)
        engine.issue("CT")
        engine.act(1, "start")
        engine.act(1, "finish")
        moved = engine.next(2)
    finally:
        db.dispose()
    live_server.start()

    expect(page.locator("#offline")).to_be_hidden(timeout=20_000)
    expect(page.locator("#current-call .h-call-code")).to_have_text(moved.code)
    truth = server_snapshot(live_server, demo)
    page.wait_for_function(f"() => motcuaDisplay.state.seq === {truth['seq']}")
    assert comparable(page_state(page)) == comparable(truth)
    assert shown_calls(page) == [c["code"] for c in truth["recent_calls"]]
    expect(page.locator('#counters [data-counter="1"] .ticket')).to_have_text("—")
    expect(page.locator('#counters [data-counter="2"] .ticket')).to_have_text(moved.code)
    # No reload: the same document, loaded once; each call announced once.
    assert page.evaluate("() => window.__sameDocument") == "yes"
    assert page.evaluate("() => motcuaDisplay.loadedAt") == loaded_at
    assert page.evaluate("() => performance.getEntriesByType('navigation').map(e => e.type)") == ["navigate"]
    announced = page.evaluate("() => motcuaDisplay.announced")
    assert announced == [first_call, truth["recent_calls"][0]["id"]]


def test_sound_waits_for_a_tap_when_the_browser_refuses_autoplay(live_server: LiveServer, browser, chromium_path) -> None:
    # A browser that wants a tap before sound, as TVs' kiosk browsers do. Named outright:
    # Chromium's default policy differs between versions and headless modes.
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--autoplay-policy")]
    strict = browser.browser_type.launch(executable_path=chromium_path, headless=True,
                                         args=[*args, "--autoplay-policy=document-user-activation-required"])
    try:
        # On a loaded machine Chromium now and then lets a fresh page's first play() through
        # despite the policy (seen about once in eight runs). The page must then stay quiet
        # about sound; a new page is asked until the browser refuses.
        checks = []
        for _ in range(4):
            page = strict.new_page(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
            open_hall(page, live_server)
            page.wait_for_function("() => motcuaDisplay.soundCheck !== 'pending'", timeout=15_000)
            checks.append(page.evaluate("() => motcuaDisplay.soundCheck"))
            if checks[-1] == "blocked":
                break
            assert checks[-1] == "allowed"
            expect(page.locator("#sound")).to_be_hidden()
            page.close()
        assert checks[-1] == "blocked", checks
        expect(page.locator("#sound")).to_be_visible()
        expect(page.locator("#sound")).to_contain_text("Chạm để bật âm thanh")
        expect(page.locator("#sound")).to_contain_text("Tap to enable sound")

        demo = live_server.demo
        ticket = issue(live_server, demo)
        call_next(live_server, demo, 1)
        # Without sound the text still tells the hall.
        expect(page.locator("#ticker")).to_have_text(f"Xin mời công dân có số thứ tự {ticket['code']} đến quầy số 1")
        call_id = server_snapshot(live_server, demo)["recent_calls"][0]["id"]
        assert page.evaluate("() => motcuaDisplay.played") == []
        page.locator("#sound").click()
        expect(page.locator("#sound")).to_be_hidden()
        page.wait_for_function(f"() => motcuaDisplay.played.includes({call_id})")
        assert page.evaluate("() => motcuaDisplay.played") == [call_id]
    finally:
        strict.close()


def test_a_display_without_a_good_token_shows_how_to_set_it_up(live_server: LiveServer, page) -> None:
    page.goto(f"{live_server.url}/display/")
    expect(page.locator("#setup")).to_be_visible()
    expect(page.locator("#setup-reason")).to_be_hidden()
    expect(page.locator("#setup")).to_contain_text("Màn hình sảnh chưa được kích hoạt")

    page.goto(f"{live_server.url}/display/?token=dev_wrong")
    expect(page.locator("#setup-reason")).to_contain_text("Mã thiết bị không hợp lệ hoặc đã bị thu hồi")
    assert page.evaluate("() => localStorage.getItem('motcua.display.token')") is None

    page.goto(f"{live_server.url}/display/?token={live_server.demo.devices['Kiosk sảnh']}")
    expect(page.locator("#setup-reason")).to_contain_text("không phải của màn hình sảnh")

    page.locator("#setup-token").fill(live_server.demo.devices[HALL])
    page.locator("#setup-form button").click()
    expect(page.locator("#app")).to_be_visible(timeout=15_000)
    expect(page.locator("#office-name")).to_have_text("Trung tâm Phục vụ hành chính công xã Minh Khai (demo)")


def test_hall_screenshot_with_calls_counters_waiting_and_a_slide(live_server_factory, page) -> None:
    # Two dozen tickets from one kiosk in a few seconds: more than its rate limit allows a real kiosk.
    live_server = live_server_factory(extra_env={"MOTCUA_ISSUE_LIMIT_DEVICE": "off"})
    demo = live_server.demo
    procedure_slide(Path(live_server.env["MOTCUA_INSTANCE"]) / "media" / "demo" / "01-khai-sinh.png")
    for service, n in (("HT", 9), ("CT", 6), ("DD", 4), ("KD", 3), ("XH", 2)):
        for _ in range(n):
            issue(live_server, demo, service)
    clerk = {n: demo.clerk(n).headers for n in range(1, 5)}

    def act(n: int, action: str, **body) -> None:
        import requests

        r = requests.post(f"{live_server.url}/api/v1/counters/{n}/{action}", json=body or None, headers=clerk[n], timeout=10)
        assert r.status_code == 200, r.text

    for n, actions in ((3, ["next", "start"]), (2, ["next", "start", "finish", "next"]), (4, ["next", "start", "finish", "next", "start"]),
                       (1, ["next", "start", "finish", "next"])):
        for action in actions:
            act(n, action)
    act(4, "pause", reason="Họp giao ban")
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_hall(page, live_server)
    truth = server_snapshot(live_server, demo)
    expect(page.locator("#current-call .h-call-code")).to_have_text(truth["recent_calls"][0]["code"])
    expect(page.locator("#media-stage img")).to_be_visible()
    waiting = {s["code"]: s["waiting"] for s in truth["services"]}
    for code, count in waiting.items():
        expect(page.locator(f'#waiting [data-service="{code}"] .count')).to_have_text(str(count))
    expect(page.locator('#counters [data-counter="4"] .status')).to_have_text("Tạm nghỉ: Họp giao ban")
    assert shown_calls(page) == [c["code"] for c in truth["recent_calls"]][: len(shown_calls(page))]
    assert len(shown_calls(page)) >= 5
    page.evaluate("() => document.fonts.ready")
    screenshot(page, "display-hall", size=(1920, 1080))
    page.wait_for_function("() => document.querySelectorAll('#recent-calls li').length >= 3")  # refitted after the resize
    screenshot(page, "display-hall-1366x768", size=(1366, 768))


def tone_wav(seconds: float = 0.5, rate: int = 44100) -> bytes:
    n = int(seconds * rate)
    samples = array("h", [0] * 4410 + [int(12000 * math.sin(2 * math.pi * 220 * i / rate)) for i in range(n)] + [0] * 4410)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def test_the_voice_page_for_a_manager(live_server: LiveServer, page, tmp_path) -> None:
    manager = live_server.demo.manager
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/login?next=/display/voice")
    page.locator('input[name="username"]').fill(manager.username)
    page.locator('input[name="password"]').fill(manager.password)
    page.locator('button[type="submit"]').click()
    expect(page.locator("h1")).to_have_text("Giọng đọc lời mời")

    page.locator('input[name="code"]').fill("A1025")
    page.locator('input[name="counter"]').fill("2")
    page.locator(".v-preview-form button").click()
    expect(page.locator(".v-shown")).to_have_text("Xin mời công dân có số thứ tự A1025 đến quầy số 2")
    expect(page.locator(".v-preview-result")).to_contain_text("A một nghìn không trăm hai mươi lăm")
    src = page.locator(".v-preview-result audio").get_attribute("src")
    assert page.request.get(live_server.url + src).headers["content-type"] == "audio/wav"

    clip = tmp_path / "xin-moi.wav"
    clip.write_bytes(tone_wav(1.5))
    row = page.locator("#clip-xin_moi")
    row.locator('input[type="file"]').set_input_files(str(clip))
    row.locator("button.primary").click()
    expect(page.locator(".v-message.ok")).to_contain_text("Đã thay đoạn “xin_moi” bằng bản ghi âm mới")
    expect(page.locator("#clip-xin_moi .v-badge")).to_have_text("Đã tải lên")
    expect(page.locator("#clip-xin_moi .v-revert")).to_be_visible()
    page.evaluate("() => window.scrollTo(0, 0)")
    page.set_viewport_size({"width": 1280, "height": 1200})
    screenshot(page, "display-voice")
