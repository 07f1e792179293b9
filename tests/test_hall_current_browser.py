"""The hall display keeps "Đang gọi", the ticker, the counter tiles and the voice in agreement
with the latest state: a call that is no longer current (no-show, finished, transferred, called
again) is never announced afterwards, in Chromium against a real `motcua serve`."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.env import DEMO_CONFIG
from tests.support.live import LiveServer
from tests.support.realtime import issue, server_snapshot

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

# Every play() the page starts, with the page's clock: what the hall said aloud, and when.
WATCH_PLAYS = """(() => {
  const play = HTMLMediaElement.prototype.play;
  window.__plays = [];
  window.__media = new Set();
  HTMLMediaElement.prototype.play = function () {
    window.__media.add(this);
    window.__plays.push({ at: Date.now(), src: String(this.src || '') });
    return play.apply(this, arguments);
  };
})()"""


def open_hall(page, server: LiveServer) -> None:
    page.goto(f"{server.url}/display/?token={server.demo.devices['Màn hình sảnh']}")
    expect(page.locator("#app")).to_be_visible(timeout=15_000)


def act(server: LiveServer, counter: int, action: str, **body) -> dict:
    r = requests.post(f"{server.url}/api/v1/counters/{counter}/{action}", json=body or None,
                      headers=server.demo.clerk(counter).headers, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def in_step(page, server: LiveServer, *, quiet: bool = False) -> None:
    """Wait until the page has applied every change the server has made (and, if `quiet`, has
    finished speaking: while a call is spoken, "Đang gọi" shows that call)."""
    seq = server_snapshot(server, server.demo)["seq"]
    page.wait_for_function(f"() => motcuaDisplay.state && motcuaDisplay.state.seq === {seq}")
    if quiet:
        page.wait_for_function("() => motcuaDisplay.speaking === null", timeout=60_000)


def speaking(page) -> bool:
    return page.evaluate("() => [...window.__media].some((m) => !m.paused && !m.ended)")


def test_next_then_no_show_a_second_later_three_times_is_not_announced_afterwards(live_server_factory, tmp_path, page) -> None:
    # The office lets a no-show through one second after the call (5 s by default), as in the report.
    config = tmp_path / "quick.toml"
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    config.write_text(text.replace("no_show_min_seconds = 5", "no_show_min_seconds = 1", 1), encoding="utf-8")
    live_server = live_server_factory(config=config)
    demo = live_server.demo
    page.add_init_script(WATCH_PLAYS)
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_hall(page, live_server)
    page.wait_for_function("() => motcuaDisplay.soundCheck === 'allowed'")
    codes = [issue(live_server, demo)["code"] for _ in range(4)]

    for _ in range(3):
        act(live_server, 1, "next")
        time.sleep(1.2)
        act(live_server, 1, "no-show")
    in_step(page, live_server)
    stale_from = page.evaluate("() => Date.now()")

    # Nobody is called now: the big box, the ticker and counter 1 all say so.
    expect(page.locator("#current-call .h-call-code")).to_have_count(0)
    expect(page.locator("#current-call")).to_contain_text("Đang chờ gọi số tiếp theo")
    expect(page.locator("#ticker")).to_have_text("")
    expect(page.locator('#counters [data-counter="1"] .status')).to_have_text("Sẵn sàng")
    expect(page.locator('#counters [data-counter="1"] .ticket')).to_have_text("—")
    # The voice has stopped: nothing is playing, and nothing starts later for those citizens.
    assert not speaking(page), page.evaluate("() => window.__plays")
    page.wait_for_timeout(3000)
    assert not speaking(page)
    late = page.evaluate(f"() => window.__plays.filter((p) => p.at > {stale_from} && p.src.startsWith('blob:'))")
    assert late == [], late
    calls = [c for c in server_snapshot(live_server, demo)["recent_calls"] if c["code"] in codes[:3]]
    assert len(calls) == 3
    spoken_late = set(page.evaluate("() => motcuaDisplay.played")) - set(page.evaluate("() => motcuaDisplay.dropped"))
    assert not spoken_late & {c["id"] for c in calls}, "a call was spoken to its end after its citizen was marked absent"

    # The next citizen who does come is announced at once, and everything names them.
    act(live_server, 1, "next")
    call = server_snapshot(live_server, demo)["recent_calls"][0]
    assert call["code"] == codes[3]
    page.wait_for_function(f"() => motcuaDisplay.played.includes({call['id']})")
    expect(page.locator("#current-call .h-call-code")).to_have_text(codes[3])
    expect(page.locator("#ticker")).to_have_text(f"Xin mời công dân có số thứ tự {codes[3]} đến quầy số 1")
    expect(page.locator('#counters [data-counter="1"] .ticket')).to_have_text(codes[3])
    expect(page.locator('#counters [data-counter="1"] .status')).to_have_text("Đang mời")


def test_a_finished_or_transferred_ticket_leaves_now_calling(live_server: LiveServer, page) -> None:
    demo = live_server.demo
    open_hall(page, live_server)
    first, second = issue(live_server, demo)["code"], issue(live_server, demo, "CT")["code"]

    act(live_server, 1, "next")
    act(live_server, 2, "next")
    in_step(page, live_server, quiet=True)
    expect(page.locator("#current-call .h-call-code")).to_have_text(second)

    # Counter 2 sends its citizen to another field: counter 1's call is the current one again.
    act(live_server, 2, "transfer", service="HT", position="back")
    in_step(page, live_server)
    expect(page.locator("#current-call .h-call-code")).to_have_text(first)
    expect(page.locator("#ticker")).to_have_text(f"Xin mời công dân có số thứ tự {first} đến quầy số 1")
    expect(page.locator("#recent-calls .code").first).to_have_text(second)  # history, not "now calling"

    # Counter 1 serves, finishes and goes on a break: nothing stays under "Đang gọi".
    act(live_server, 1, "start")
    in_step(page, live_server)
    expect(page.locator("#current-call .h-call-code")).to_have_text(first)
    act(live_server, 1, "finish")
    act(live_server, 1, "pause", reason="Nghỉ trưa")
    in_step(page, live_server)
    expect(page.locator("#current-call .h-call-code")).to_have_count(0)
    expect(page.locator("#ticker")).to_have_text("")
    expect(page.locator('#counters [data-counter="1"] .status')).to_have_text("Tạm nghỉ: Nghỉ trưa")
    expect(page.locator('#counters [data-counter="1"] .ticket')).to_have_text("—")
    # A recall is one line in the history, not two.
    act(live_server, 1, "resume")
    act(live_server, 1, "next")
    act(live_server, 1, "recall")
    in_step(page, live_server)
    shown = page.locator("#current-call .h-call-code").all_inner_texts() + page.locator("#recent-calls .code").all_inner_texts()
    assert len(shown) == len(set(shown)), shown
    expect(page.locator("#current-call .h-call-kind")).to_contain_text("Gọi lại")
