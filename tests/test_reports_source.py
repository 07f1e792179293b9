"""Every summary can group by the ticket's source (kiosk, remote), with the remote no-show share;
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 9, 7, 9, 0, tzinfo=HCM)
REMOTE = REPO / "tests" / "data" / "remote.toml"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_summary_by_source(request, make_app, database: str) -> None:
    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    app, demos = make_app(config=REMOTE, database_url=url)
    client, demo = app.test_client(), demos["demo"]
    h = demo.clerk(1).headers
    with time_machine.travel(MONDAY, tick=False) as clock_:
        # A001, A002 remote; A003 kiosk; A004 remote: served, no-show, served, served.
        for i, how in enumerate(("remote", "remote", "kiosk", "remote")):
            if how == "remote":
                assert client.post("/api/v1/public/tickets", json={"office": "demo", "service": "HT", "phone": f"091234500{i}"}).status_code == 201
            else:
                assert client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk).status_code == 201
            clock_.shift(60)
        for outcome in ("finish", "no-show", "finish", "finish"):
            clock_.shift(300)
            client.post("/api/v1/counters/1/next", headers=h)
            clock_.shift(10)
            if outcome == "finish":
                client.post("/api/v1/counters/1/start", headers=h)
                clock_.shift(120)
            client.post(f"/api/v1/counters/1/{outcome}", headers=h)
    r = client.get("/api/v1/reports/summary?group_by=source&from=2026-09-07&to=2026-09-07", headers=demo.manager.headers)
    assert r.status_code == 200, r.json
    rows = {row["key"]: row for row in r.json["rows"]}
    assert list(rows) == ["kiosk", "remote"]
    assert rows["remote"]["label"] == "Lấy số từ xa" and rows["kiosk"]["label"] == "Tại kiosk"
    assert (rows["remote"]["issued"], rows["remote"]["served"], rows["remote"]["no_show"]) == (3, 2, 1)
    assert rows["remote"]["no_show_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert (rows["kiosk"]["issued"], rows["kiosk"]["served"], rows["kiosk"]["no_show_share"]) == (1, 1, 0)
    assert r.json["total"]["issued"] == 4
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/api/v1/reports/summary?group_by=source&format={fmt}&from=2026-09-07&to=2026-09-07",
                          headers=demo.manager.headers).status_code == 200
