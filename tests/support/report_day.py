"""A scripted day through the API, and every report figure of it written out by hand.

Monday 2 March 2026 at the demo office (Asia/Ho_Chi_Minh, UTC+7). Counters 1 (HT ×2, CT ×1),
2 (CT ×2, HT ×1) and 3 (DD) work; counter 4 (KD, XH) stays closed. Estimates printed on the
tickets follow the estimator before issue 18 (bench/legacy_estimate.py, which the tests patch
in) and are asserted as the day goes, so the expected
figures below rest on checked facts.

  leg            field  queued    called    started   finished  counter  outcome      wait  service  eta     rating
  A001 (1)       HT     07:25:00  07:35:30  07:37:00  07:52:00  2        transferred   630     900   —
  A001 (2)       DD     07:52:00  08:01:00  08:10:00  08:20:00  3        served        540     600   (leg 2)
  A002 elderly   HT     07:31:00  07:35:00  07:36:00  07:41:00  1        served        240     300   0–5     1
  B001           CT     07:32:00  07:45:00  07:47:00  07:50:00  1        served        780     180   0–3     4 "Chờ lâu quá"
  C001           DD     07:40:00  07:46:00  07:53:00  08:00:00  3        served        360     420   —
  A003           HT     07:55:00  08:03:00  —         08:06:00  1        no_show       480      —    0–4     (recalled once)
  A004           HT     07:56:00  07:56:30  07:57:00  08:05:30  2        served         30     510   1–7     (called out of turn)
  B002           CT     07:57:00  08:07:00  08:08:00  08:12:00  1        served        600     240   0–2     2
  D001           KD     08:30:00  —         —         —         —        (open)          —      —    —
  E001           XH     08:31:00  —         —         08:40:00  —        cancelled       —      —    —
  B003           CT     09:05:00  09:06:00  —         09:06:30  2        no_show        60      —    0–3

Waits sorted: 30 60 240 360 480 540 600 630 780 (n 9, sum 3720): mean 413.333, median 480,
p90 = 9th (⌈8.1⌉) = 780. Service times sorted: 180 240 300 420 510 600 900 (n 7, sum 3150):
mean 450, median 420, p90 = 7th (⌈6.3⌉) = 900. Estimates (first legs called with one):
A002 inside, B001 +600 s, A003 +240 s, A004 −30 s (called before its low bound), B002 +480 s,
B003 inside: within 2/6, mean error 1290/6 = 215 s, mean absolute error 1350/6 = 225 s.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = "2026-03-02"
PAD = "Đánh giá quầy 1"
OOO_REASON = "Công dân khuyết tật đi cùng người cao tuổi, cần ưu tiên"
LOW_REASON = "Chờ lâu quá"


def at(hms: str) -> datetime:
    parts = [int(p) for p in hms.split(":")] + [0]
    return datetime(2026, 3, 2, parts[0], parts[1], parts[2], tzinfo=TZ)


def local(hms: str | None) -> str | None:
    if hms is None:
        return None
    return at(hms).isoformat(timespec="seconds")


class Day:
    """Drives the API as the kiosk, the clerks and the rating pad would."""

    def __init__(self, client, demo, traveller) -> None:
        self.client, self.demo, self.tm = client, demo, traveller
        self.tickets: dict[str, dict] = {}

    def go(self, hms: str) -> None:
        self.tm.move_to(at(hms))

    def issue(self, hms: str, service: str, code: str, eta: list[int] | None, priority: str | None = None) -> None:
        self.go(hms)
        body = {"service": service, **({"priority": priority} if priority else {})}
        r = self.client.post("/api/v1/tickets", json=body, headers=self.demo.kiosk)
        assert r.status_code == 201, r.get_json()
        t = r.get_json()
        assert (t["code"], t["eta_minutes"]) == (code, eta)
        self.tickets[code] = t

    def counter(self, hms: str, number: int, action: str, expect: str | None = None, body: dict | None = None) -> None:
        self.go(hms)
        kwargs = {"json": body} if body is not None else {}
        r = self.client.post(f"/api/v1/counters/{number}/{action}", headers=self.demo.clerk(number).headers, **kwargs)
        assert r.status_code == 200, r.get_json()
        if expect is not None:
            assert r.get_json()["ticket"]["code"] == expect

    def rate(self, hms: str, code: str, score: int, reason: str | None = None) -> None:
        self.go(hms)
        r = self.client.post("/api/v1/ratings", json={"ticket": self.tickets[code]["public_id"], "score": score, "reason": reason},
                             headers=self.demo.device_headers(PAD))
        assert r.status_code == 201, r.get_json()

    def cancel(self, hms: str, code: str) -> None:
        self.go(hms)
        r = self.client.post(f"/api/v1/tickets/{self.tickets[code]['public_id']}/cancel", json={})
        assert r.status_code == 200, r.get_json()


def script_day(client, demo) -> Day:
    """Play the day of the module docstring; returns the tickets issued."""
    with time_machine.travel(at("07:20"), tick=False) as tm:
        d = Day(client, demo, tm)
        d.issue("07:25", "HT", "A001", None)  # no counter open yet: "không xác định"
        d.counter("07:30", 1, "open")
        d.counter("07:30", 2, "open")
        d.issue("07:31", "HT", "A002", [0, 5], priority="elderly")  # 480 s / 2 counters, nobody ahead
        d.issue("07:32", "CT", "B001", [0, 3])  # 240 s / 2 counters
        d.counter("07:35", 1, "next", "A002")  # priority first
        d.counter("07:35:30", 2, "next", "A001")  # HT 630 s × 1 beats CT 210 s × 2
        d.counter("07:36", 1, "start")
        d.counter("07:37", 2, "start")
        d.issue("07:40", "DD", "C001", None)  # counter 3 closed
        d.counter("07:41", 1, "finish")
        d.rate("07:41:20", "A002", 1)
        d.counter("07:45", 3, "open")
        d.counter("07:45", 1, "next", "B001")
        d.counter("07:46", 3, "next", "C001")
        d.counter("07:47", 1, "start")
        d.counter("07:50", 1, "finish")
        d.rate("07:50:10", "B001", 4, LOW_REASON)
        d.counter("07:52", 2, "transfer", body={"service": "DD"})
        d.counter("07:53", 3, "start")
        d.issue("07:55", "HT", "A003", [0, 4])  # HT served mean 300 s / 2 counters
        d.issue("07:56", "HT", "A004", [1, 7])  # one ahead
        d.counter("07:56:30", 2, "call", "A004", body={"code": "A004", "reason": OOO_REASON})
        d.counter("07:57", 2, "start")
        d.issue("07:57", "CT", "B002", [0, 2])  # CT served mean 180 s / 2 counters
        d.counter("08:00", 3, "finish")
        d.counter("08:01", 3, "next", "A001")
        d.counter("08:03", 1, "next", "A003")  # HT 480 s × 2 beats CT 360 s × 1
        d.counter("08:04", 1, "recall")
        d.counter("08:05:30", 2, "finish")
        d.counter("08:06", 1, "no-show")
        d.counter("08:07", 1, "next", "B002")
        d.counter("08:08", 1, "start")
        d.counter("08:10", 3, "start")
        d.counter("08:12", 1, "finish")
        d.rate("08:12:30", "B002", 2)
        d.counter("08:20", 3, "finish")
        d.issue("08:30", "KD", "D001", None)  # counter 4 closed
        d.issue("08:31", "XH", "E001", None)
        d.cancel("08:40", "E001")
        d.issue("09:05", "CT", "B003", [0, 3])  # CT served mean 210 s / 2 counters
        d.counter("09:06", 2, "next", "B003")
        d.counter("09:06:30", 2, "no-show")
    return d


# ---- expected figures, by hand -------------------------------------------------------------

NOTHING = {
    "legs": 0, "issued": 0, "transferred_in": 0, "served": 0, "no_show": 0, "cancelled": 0, "transferred": 0, "unfinished": 0,
    "priority": 0, "priority_share": 0.0, "called": 0, "wait_mean_s": None, "wait_median_s": None, "wait_p90_s": None, "wait_max_s": None,
    "service_n": 0, "service_mean_s": None, "service_median_s": None, "service_p90_s": None, "recalls": 0, "out_of_order": 0,
    "ratings": 0, "satisfied": 0, "satisfaction_rate": None, "rating_1": 0, "rating_2": 0, "rating_3": 0, "rating_4": 0,
    "eta_n": 0, "eta_within": 0, "eta_within_share": None, "eta_mean_error_s": None, "eta_mean_abs_error_s": None,
}

TOTAL = {
    "key": None, "label": "Tổng cộng",
    "legs": 11, "issued": 10, "transferred_in": 1, "served": 6, "no_show": 2, "cancelled": 1, "transferred": 1, "unfinished": 1,
    "priority": 1, "priority_share": 0.0909, "called": 9, "wait_mean_s": 413.333, "wait_median_s": 480.0, "wait_p90_s": 780.0,
    "wait_max_s": 780.0, "service_n": 7, "service_mean_s": 450.0, "service_median_s": 420.0, "service_p90_s": 900.0,
    "recalls": 1, "out_of_order": 1, "ratings": 3, "satisfied": 2, "satisfaction_rate": 0.6667,
    "rating_1": 1, "rating_2": 1, "rating_3": 0, "rating_4": 1,
    "eta_n": 6, "eta_within": 2, "eta_within_share": 0.3333, "eta_mean_error_s": 215.0, "eta_mean_abs_error_s": 225.0,
}

COUNTER_1 = {
    "legs": 4, "issued": 4, "transferred_in": 0, "served": 3, "no_show": 1, "cancelled": 0, "transferred": 0, "unfinished": 0,
    "priority": 1, "priority_share": 0.25, "called": 4, "wait_mean_s": 525.0, "wait_median_s": 540.0, "wait_p90_s": 780.0,
    "wait_max_s": 780.0, "service_n": 3, "service_mean_s": 240.0, "service_median_s": 240.0, "service_p90_s": 300.0,
    "recalls": 1, "out_of_order": 0, "ratings": 3, "satisfied": 2, "satisfaction_rate": 0.6667,
    "rating_1": 1, "rating_2": 1, "rating_3": 0, "rating_4": 1,
    "eta_n": 4, "eta_within": 1, "eta_within_share": 0.25, "eta_mean_error_s": 330.0, "eta_mean_abs_error_s": 330.0,
}
COUNTER_2 = {
    "legs": 3, "issued": 3, "transferred_in": 0, "served": 1, "no_show": 1, "cancelled": 0, "transferred": 1, "unfinished": 0,
    "priority": 0, "priority_share": 0.0, "called": 3, "wait_mean_s": 240.0, "wait_median_s": 60.0, "wait_p90_s": 630.0,
    "wait_max_s": 630.0, "service_n": 2, "service_mean_s": 705.0, "service_median_s": 705.0, "service_p90_s": 900.0,
    "recalls": 0, "out_of_order": 1, "ratings": 0, "satisfied": 0, "satisfaction_rate": None,
    "rating_1": 0, "rating_2": 0, "rating_3": 0, "rating_4": 0,
    "eta_n": 2, "eta_within": 1, "eta_within_share": 0.5, "eta_mean_error_s": -15.0, "eta_mean_abs_error_s": 15.0,
}
COUNTER_3 = {
    **NOTHING,
    "legs": 2, "issued": 1, "transferred_in": 1, "served": 2, "called": 2, "wait_mean_s": 450.0, "wait_median_s": 450.0,
    "wait_p90_s": 540.0, "wait_max_s": 540.0, "service_n": 2, "service_mean_s": 510.0, "service_median_s": 510.0, "service_p90_s": 600.0,
}
NOT_CALLED = {**NOTHING, "legs": 2, "issued": 2, "cancelled": 1, "unfinished": 1}

BY_COUNTER = [
    {"key": 1, "label": "Quầy 1 — Hộ tịch", **COUNTER_1},
    {"key": 2, "label": "Quầy 2 — Chứng thực", **COUNTER_2},
    {"key": 3, "label": "Quầy 3 — Đất đai", **COUNTER_3},
    {"key": None, "label": "(chưa gọi)", **NOT_CALLED},
]
# Each clerk worked at one counter all day: their figures are that counter's.
BY_CLERK = [
    {"key": "demo-clerk1", "label": "Clerk1 demo", **COUNTER_1},
    {"key": "demo-clerk2", "label": "Clerk2 demo", **COUNTER_2},
    {"key": "demo-clerk3", "label": "Clerk3 demo", **COUNTER_3},
    {"key": None, "label": "(chưa gọi)", **NOT_CALLED},
]
BY_SERVICE = [
    {
        "key": "HT", "label": "Hộ tịch",
        "legs": 4, "issued": 4, "transferred_in": 0, "served": 2, "no_show": 1, "cancelled": 0, "transferred": 1, "unfinished": 0,
        "priority": 1, "priority_share": 0.25, "called": 4, "wait_mean_s": 345.0, "wait_median_s": 360.0, "wait_p90_s": 630.0,
        "wait_max_s": 630.0, "service_n": 3, "service_mean_s": 570.0, "service_median_s": 510.0, "service_p90_s": 900.0,
        "recalls": 1, "out_of_order": 1, "ratings": 1, "satisfied": 1, "satisfaction_rate": 1.0,
        "rating_1": 1, "rating_2": 0, "rating_3": 0, "rating_4": 0,
        "eta_n": 3, "eta_within": 1, "eta_within_share": 0.3333, "eta_mean_error_s": 70.0, "eta_mean_abs_error_s": 90.0,
    },
    {
        "key": "CT", "label": "Chứng thực",
        "legs": 3, "issued": 3, "transferred_in": 0, "served": 2, "no_show": 1, "cancelled": 0, "transferred": 0, "unfinished": 0,
        "priority": 0, "priority_share": 0.0, "called": 3, "wait_mean_s": 480.0, "wait_median_s": 600.0, "wait_p90_s": 780.0,
        "wait_max_s": 780.0, "service_n": 2, "service_mean_s": 210.0, "service_median_s": 210.0, "service_p90_s": 240.0,
        "recalls": 0, "out_of_order": 0, "ratings": 2, "satisfied": 1, "satisfaction_rate": 0.5,
        "rating_1": 0, "rating_2": 1, "rating_3": 0, "rating_4": 1,
        "eta_n": 3, "eta_within": 1, "eta_within_share": 0.3333, "eta_mean_error_s": 360.0, "eta_mean_abs_error_s": 360.0,
    },
    {"key": "DD", "label": "Đất đai", **COUNTER_3},  # counter 3 served DD alone
    {"key": "KD", "label": "Đăng ký kinh doanh, đầu tư", **NOTHING, "legs": 1, "issued": 1, "unfinished": 1},
    {"key": "XH", "label": "Lao động, thương binh và xã hội", **NOTHING, "legs": 1, "issued": 1, "cancelled": 1},
]
BY_HOUR = [
    {
        "key": 7, "label": "07:00–08:00",
        "legs": 8, "issued": 7, "transferred_in": 1, "served": 6, "no_show": 1, "cancelled": 0, "transferred": 1, "unfinished": 0,
        "priority": 1, "priority_share": 0.125, "called": 8, "wait_mean_s": 457.5, "wait_median_s": 510.0, "wait_p90_s": 780.0,
        "wait_max_s": 780.0, "service_n": 7, "service_mean_s": 450.0, "service_median_s": 420.0, "service_p90_s": 900.0,
        "recalls": 1, "out_of_order": 1, "ratings": 3, "satisfied": 2, "satisfaction_rate": 0.6667,
        "rating_1": 1, "rating_2": 1, "rating_3": 0, "rating_4": 1,
        "eta_n": 5, "eta_within": 1, "eta_within_share": 0.2, "eta_mean_error_s": 258.0, "eta_mean_abs_error_s": 270.0,
    },
    {"key": 8, "label": "08:00–09:00", **NOTHING, "legs": 2, "issued": 2, "cancelled": 1, "unfinished": 1},
    {
        "key": 9, "label": "09:00–10:00", **NOTHING,
        "legs": 1, "issued": 1, "no_show": 1, "called": 1, "wait_mean_s": 60.0, "wait_median_s": 60.0, "wait_p90_s": 60.0, "wait_max_s": 60.0,
        "eta_n": 1, "eta_within": 1, "eta_within_share": 1.0, "eta_mean_error_s": 0.0, "eta_mean_abs_error_s": 0.0,
    },
]
BY_WEEKDAY = [{**TOTAL, "key": 1, "label": "Thứ Hai"}]
BY_DAY = [{**TOTAL, "key": DAY, "label": "02/03/2026"}]
EXPECTED = {"counter": BY_COUNTER, "clerk": BY_CLERK, "service": BY_SERVICE, "hour": BY_HOUR, "weekday": BY_WEEKDAY, "day": BY_DAY}

HT, CT, DD, KD, XH = "Hộ tịch", "Chứng thực", "Đất đai", "Đăng ký kinh doanh, đầu tư", "Lao động, thương binh và xã hội"
ELDERLY = "Người cao tuổi (từ 60 tuổi)"
C1, C2, C3 = "Clerk1 demo", "Clerk2 demo", "Clerk3 demo"
# ticket, number, leg, field, name, priority, issued, queued, called, started, finished, counter, clerk, outcome, label,
# recalls, out of order, reason, wait, service, eta low, eta high, rating, rating label, rating reason
LOG = [
    ("A001", 1, 1, "HT", HT, None, "07:25", "07:25", "07:35:30", "07:37", "07:52", 2, C2, "transferred", "Chuyển lĩnh vực", 0, False, None, 630.0, 900.0, None, None, None, None, None),
    ("A001", 1, 2, "DD", DD, None, "07:25", "07:52", "08:01", "08:10", "08:20", 3, C3, "served", "Đã phục vụ", 0, False, None, 540.0, 600.0, None, None, None, None, None),
    ("A002", 2, 1, "HT", HT, ELDERLY, "07:31", "07:31", "07:35", "07:36", "07:41", 1, C1, "served", "Đã phục vụ", 0, False, None, 240.0, 300.0, 0, 5, 1, "Rất hài lòng", None),
    ("B001", 1, 1, "CT", CT, None, "07:32", "07:32", "07:45", "07:47", "07:50", 1, C1, "served", "Đã phục vụ", 0, False, None, 780.0, 180.0, 0, 3, 4, "Không hài lòng", LOW_REASON),
    ("C001", 1, 1, "DD", DD, None, "07:40", "07:40", "07:46", "07:53", "08:00", 3, C3, "served", "Đã phục vụ", 0, False, None, 360.0, 420.0, None, None, None, None, None),
    ("A003", 3, 1, "HT", HT, None, "07:55", "07:55", "08:03", None, "08:06", 1, C1, "no_show", "Vắng mặt", 1, False, None, 480.0, None, 0, 4, None, None, None),
    ("A004", 4, 1, "HT", HT, None, "07:56", "07:56", "07:56:30", "07:57", "08:05:30", 2, C2, "served", "Đã phục vụ", 0, True, OOO_REASON, 30.0, 510.0, 1, 7, None, None, None),
    ("B002", 2, 1, "CT", CT, None, "07:57", "07:57", "08:07", "08:08", "08:12", 1, C1, "served", "Đã phục vụ", 0, False, None, 600.0, 240.0, 0, 2, 2, "Hài lòng", None),
    ("D001", 1, 1, "KD", KD, None, "08:30", "08:30", None, None, None, None, None, None, "Chưa kết thúc", 0, False, None, None, None, None, None, None, None, None),
    ("E001", 1, 1, "XH", XH, None, "08:31", "08:31", None, None, "08:40", None, None, "cancelled", "Đã hủy", 0, False, None, None, None, None, None, None, None, None),
    ("B003", 3, 1, "CT", CT, None, "09:05", "09:05", "09:06", None, "09:06:30", 2, C2, "no_show", "Vắng mặt", 0, False, None, 60.0, None, 0, 3, None, None, None),
]
LOG_KEYS = (
    "ticket_code", "ticket_number", "leg", "service", "service_name", "priority", "issued_at", "queued_at", "called_at", "started_at",
    "finished_at", "counter", "clerk", "outcome", "outcome_label", "recalls", "out_of_order", "call_reason", "wait_s", "service_s",
    "eta_low_min", "eta_high_min", "rating_score", "rating_label", "rating_reason",
)
TIMES = {"issued_at", "queued_at", "called_at", "started_at", "finished_at"}


def expected_log_json() -> list[dict]:
    rows = []
    for values in LOG:
        row = {"business_day": DAY}
        for k, v in zip(LOG_KEYS, values, strict=True):
            row[k] = local(v) if k in TIMES else v
        row["dossiers"] = None  # no dossier codes were attached that day
        rows.append(row)
    return rows


def use_legacy_estimates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue the scripted day's tickets with the estimator before issue 18 (bench/legacy_estimate.py):
    the report's definitions are checked against those fixed, hand-checked ranges, whatever
    estimator the engine uses now."""
    from bench import legacy_estimate
    from motcua.engine import tickets

    monkeypatch.setattr(tickets, "estimate", legacy_estimate.estimate)
