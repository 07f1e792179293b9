"""The wait model's pieces added for issue 18's accuracy goal: newcomers stop when the issuing
window closes, the arrival rate counts only the issuing part of the hour, and the spread
includes the services in hand and the randomness of newcomers who are served first."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from motcua.engine import estimates, field_stats
from motcua.engine.estimates import _overlap
from motcua.engine.wait_model import Cost, Desk, Queue, forecast
from motcua.models import Office, Service
from tests.support.engine import Driver

NOW = 1_000_000.0
HT, CT = 1, 2


def test_no_newcomers_after_the_issuing_window() -> None:
    q = Queue(0, NOW, rate=1 / 60, until=NOW + 300)
    assert q.available(NOW + 240, NOW) == 4
    assert q.available(NOW + 3600, NOW) == 5  # five came before the window closed, none after
    q.popped = 5
    assert q.next_arrival(NOW) == math.inf


def test_arrival_window_is_the_issuing_part_of_the_hour() -> None:
    morning = [(NOW - 600, NOW + 3 * 3600)]  # opened ten minutes ago
    assert _overlap(morning, NOW - 3600, NOW) == 600
    day = [(NOW - 5 * 3600, NOW - 2.5 * 3600), (NOW - 1200, NOW + 3600)]  # back from the break 20 min ago
    assert _overlap(day, NOW - 3600, NOW) == 1200
    assert _overlap(day, NOW - 6 * 3600, NOW) == 2.5 * 3600 + 1200


def _run(busy_var: float = 0.0, rate: float = 0.0, ahead: int = 3):
    desks = [Desk({HT: 1.0}, NOW + 120, busy_var=busy_var), Desk({HT: 1.0, CT: 2.0}, NOW)]
    queues = {(HT, False): Queue(ahead, NOW - 600), (HT, True): Queue(0, NOW, rate), (CT, False): Queue(0, NOW, rate)}
    costs = {HT: Cost(300.0, 200.0 ** 2), CT: Cost(180.0, 120.0 ** 2)}
    return forecast(desks, queues, costs, (HT, False), ahead, NOW, 2, [])


def test_the_service_in_hand_widens_the_spread_not_the_middle() -> None:
    calm, busy = _run(), _run(busy_var=240.0 ** 2)
    assert busy.wait_s == calm.wait_s
    assert busy.sd_s > calm.sd_s


def test_newcomers_served_first_move_the_middle_and_widen_the_spread() -> None:
    alone, crowded = _run(), _run(rate=1 / 120)
    assert crowded.wait_s > alone.wait_s  # priority citizens and a heavier shared field overtake
    # Their services add variance, and so does their number, which is random.
    assert crowded.sd_s > alone.sd_s


# ---- field statistics on a real database ---------------------------------------------------------

VN = timezone(timedelta(hours=7))
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=VN)  # a Monday, 09:00 in Hanoi


def at(minutes: float) -> datetime:
    return MORNING + timedelta(minutes=minutes)


def _stats(db, code: str, now: datetime, issuing_s: float = field_stats.RATE_WINDOW_S) -> field_stats.FieldStats:
    with db.read() as s:
        service = s.scalar(select(Service).join(Office).where(Office.code == "demo", Service.code == code))
        estimates.forget_database(str(s.get_bind().url))
        return field_stats.field_stats(s, service.office_id, service.id, service.service_minutes, now.date(), now, issuing_s)


def test_three_equal_services_do_not_make_the_spread_zero(db) -> None:
    d = Driver(db)
    for i in range(3):
        d.issue("DD", now=at(i))
    for start in (5, 10, 15):  # three services of exactly 4 minutes
        d.next(3, now=at(start))
        d.act(3, "start", now=at(start))
        d.act(3, "finish", now=at(start + 4))
    st = _stats(db, "DD", at(20))
    assert st.from_history and st.mean_s == 240
    # The sample alone says 0; the default spread counts as FIELD_PRIOR_LEGS services.
    expected = field_stats.FIELD_PRIOR_LEGS * (field_stats.DEFAULT_CV * 240) ** 2 / (2 + field_stats.FIELD_PRIOR_LEGS)
    assert st.var_s == pytest.approx(expected)


def test_arrival_rate_is_over_the_issuing_part_of_the_hour(db) -> None:
    d = Driver(db)
    for i in range(5):
        d.issue("HT", now=at(i))
    whole_hour = _stats(db, "HT", at(10))
    ten_minutes = _stats(db, "HT", at(10), issuing_s=600)
    assert whole_hour.rate_ordinary * 3600 == pytest.approx(5)
    assert ten_minutes.rate_ordinary * 3600 == pytest.approx(30)
    # Never over less than MIN_RATE_WINDOW_S: two minutes of issuing are not a rate.
    assert _stats(db, "HT", at(10), issuing_s=120).rate_ordinary == ten_minutes.rate_ordinary
