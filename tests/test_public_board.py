"""The public wait board: GET /api/v1/public/offices/<code> and /public/<office> (live waiting and
estimate, the last 30 days' average wait and satisfaction per field), embeddable only where the
office's board_frame_ancestors says; and the remote-number pages /q/ and /q/<office>."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 9, 7, 9, 0, tzinfo=HCM)
REMOTE = REPO / "tests" / "data" / "remote.toml"


def _served_day(client, demo, day: datetime) -> None:
    """Three HT citizens issued at 9:00, called after 10, 20 and 30 minutes, rated 1, 2 and 4."""
    h, pad = demo.clerk(1).headers, demo.device_headers("Đánh giá quầy 1")
    with time_machine.travel(day, tick=False) as clock_:
        ids = [client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk).json["public_id"] for _ in range(3)]
        for public_id, score in zip(ids, (1, 2, 4), strict=True):
            clock_.shift(600)
            assert client.post("/api/v1/counters/1/next", headers=h).status_code == 200
            client.post("/api/v1/counters/1/start", headers=h)
            client.post("/api/v1/counters/1/finish", headers=h)
            body = {"ticket": public_id, "score": score, **({"reason": "Chờ lâu"} if score == 4 else {})}
            assert client.post("/api/v1/ratings", json=body, headers=pad).status_code == 201


def test_board_json_has_today_and_the_last_30_days(make_app) -> None:
    app, demos = make_app(config=REMOTE)
    client, demo = app.test_client(), demos["demo"]
    _served_day(client, demo, MONDAY - timedelta(days=7))
    _served_day(client, demo, MONDAY - timedelta(days=40))  # older than 30 days: not counted
    with time_machine.travel(MONDAY, tick=False):
        for _ in range(2):
            client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk)
        r = client.get("/api/v1/public/offices/demo")
    assert r.status_code == 200
    data = r.json
    assert data["office"]["code"] == "demo" and data["remote_enabled"] is True and data["history_days"] == 30
    ht = next(f for f in data["services"] if f["code"] == "HT")
    assert ht["waiting"] == 2 and ht["open"] is True and ht["remote_open"] is True
    assert ht["last_30_days"] == {"served": 3, "avg_wait_minutes": 20.0, "ratings": 3, "satisfaction_percent": 66.7}
    ct = next(f for f in data["services"] if f["code"] == "CT")
    assert ct["last_30_days"] == {"served": 0, "avg_wait_minutes": None, "ratings": 0, "satisfaction_percent": None}
    assert client.get("/api/v1/public/offices/nowhere").json["error"]["code"] == "unknown_office"
    # The page shows the same, and only it may be framed by the commune's site.
    with time_machine.travel(MONDAY, tick=False):
        page = client.get("/public/demo")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Bảng chờ công khai" in html and "20.0 phút" in html and "66.7%" in html
    assert "frame-ancestors 'self' https://minhkhai.gov.vn;" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in page.headers
    other = client.get("/q/demo")
    assert "frame-ancestors 'self';" in other.headers["Content-Security-Policy"] and other.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get("/public/nowhere").status_code == 404


def test_remote_pages_list_fields_and_why_closed(make_app) -> None:
    app, _ = make_app(config=REMOTE)
    client = app.test_client()
    with time_machine.travel(MONDAY, tick=False):
        listing = client.get("/q/").get_data(as_text=True)
        assert "/q/demo" in listing
        page = client.get("/q/demo").get_data(as_text=True)
        assert "Hộ tịch" in page and "Lĩnh vực này không nhận lấy số từ xa" in page and 'value="DD" disabled' in page
        en = client.get("/q/demo?lang=en").get_data(as_text=True)
        assert "Civil status" in en and "This field does not give numbers remotely" in en
    with time_machine.travel(datetime(2026, 9, 7, 18, 0, tzinfo=HCM), tick=False):
        page = client.get("/q/demo?lang=vi").get_data(as_text=True)
        assert "Ngoài giờ lấy số" in page and 'value="HT" disabled' in page
