"""The wait model's pieces added for issue 18's accuracy goal: newcomers stop when the issuing
window closes, the arrival rate counts only the issuing part of the hour, the spread includes
the services in hand and the randomness of newcomers who are served first, a long queue runs on
after the lunch break rather than through it, and services still in progress count in the mean."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from motcua.engine import estimates, field_stats, usual_pauses
from motcua.engine.wait_model import MAX_CALLS, Cost, Desk, Queue, _after_working, forecast, working_seconds
from motcua.models import Counter, Office, Service
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
    assert working_seconds(morning, NOW - 3600, NOW) == 600
    day = [(NOW - 5 * 3600, NOW - 2.5 * 3600), (NOW - 1200, NOW + 3600)]  # back from the break 20 min ago
    assert working_seconds(day, NOW - 3600, NOW) == 1200
    assert working_seconds(day, NOW - 6 * 3600, NOW) == 2.5 * 3600 + 1200


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


def test_calling_time_skips_the_break() -> None:
    day = [(NOW - 3600, NOW + 1800), (NOW + 5400, NOW + 9000)]  # 30 min to the break, 1 h of it, 1 h after
    assert _after_working(day, NOW, 600) == NOW + 600
    assert _after_working(day, NOW, 2400) == NOW + 5400 + 600  # 30 min before the break, 10 after it
    assert _after_working(day, NOW + 3000, 60) == NOW + 5460  # asked during the break
    assert _after_working(day, NOW, 6000) == math.inf  # not today
    assert _after_working([], NOW, 60) == NOW + 60


def test_a_long_queue_is_called_after_the_break_not_during_it() -> None:
    # One counter, one-minute citizens, far more ahead than the run follows one by one: the rest
    # is extrapolated, in calling time.
    ahead = 3 * MAX_CALLS
    day = [(NOW - 3600, NOW + 1800), (NOW + 5400, NOW + 5400 + 4 * ahead * 60)]
    desks = [Desk({HT: 1.0}, NOW)]
    queues = {(HT, False): Queue(ahead, NOW - 600)}
    fc = forecast(desks, queues, {HT: Cost(60.0, 30.0 ** 2)}, (HT, False), ahead, NOW, 2, day)
    # 3 × MAX_CALLS minutes of calls: 30 before the break, the rest after it (the extrapolated rate
    # is the one seen in the run, close to but not exactly a minute a call).
    assert fc.wait_s == pytest.approx(5400 + (ahead * 60 - 1800), rel=0.03)
    assert not 1800 < fc.wait_s < 5400
    assert fc.next_wait_s > fc.wait_s


def test_services_in_progress_raise_the_mean_never_lower_it() -> None:
    done = [240.0, 300.0, 360.0]
    var = 120.0 ** 2
    assert field_stats.censored_mean(done, [], var) == 300.0
    long_running = field_stats.censored_mean(done, [1500.0], var)
    assert long_running > 1500.0 * 1 / 4 + 300.0 * 3 / 4  # it lasts more than its 25 minutes so far
    # Just started: it says little, and it never lowers the mean.
    assert 300.0 <= field_stats.censored_mean(done, [5.0], var) < 310.0
    assert field_stats.censored_mean(done, [5.0, 1500.0], var) >= 300.0


# ---- field statistics on a real database ---------------------------------------------------------

VN = timezone(timedelta(hours=7))
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=VN)  # a Monday, 09:00 in Hanoi


def at(minutes: float) -> datetime:
    return MORNING + timedelta(minutes=minutes)


def _stats(db, code: str, now: datetime, issuing_s: float = field_stats.RATE_WINDOW_S) -> field_stats.FieldStats:
    with db.read() as s:
        service = s.scalar(select(Service).join(Office).where(Office.code == "demo", Service.code == code))
        estimates.forget_database(str(s.get_bind().url))
        return field_stats.field_stats(s, service.office_id, service.id, service.service_minutes, now.date(), now, issuing_s, tz="Asia/Ho_Chi_Minh")


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


def test_a_long_service_in_progress_counts_in_the_mean(db) -> None:
    d = Driver(db)
    for i in range(4):
        d.issue("DD", now=at(i))
    for start in (5, 10, 15):  # three services of 4 minutes, finished
        d.next(3, now=at(start))
        d.act(3, "start", now=at(start))
        d.act(3, "finish", now=at(start + 4))
    d.next(3, now=at(20))
    d.act(3, "start", now=at(20))  # still going at 09:50, half an hour in
    st = _stats(db, "DD", at(50))
    assert st.from_history
    assert st.mean_s > (3 * 240 + 30 * 60) / 4  # more than if it ended this very moment
    assert _stats(db, "DD", at(21)).mean_s == pytest.approx(240, rel=0.02)  # a minute in: almost nothing to add


# ---- counters' planned hours ----------------------------------------------------------------------


def _afternoon(second: Desk) -> float:
    desks = [Desk({HT: 1.0}, NOW), second]
    queues = {(HT, False): Queue(8, NOW - 600)}
    return forecast(desks, queues, {HT: Cost(300.0, 100.0 ** 2)}, (HT, False), 8, NOW, 2, [(NOW - 3600, NOW + 3 * 3600)]).wait_s


def test_a_counter_planned_to_leave_serves_only_until_then() -> None:
    staying = _afternoon(Desk({HT: 1.0}, NOW))
    leaving = _afternoon(Desk({HT: 1.0}, NOW, spans=[(NOW - 3600, NOW + 600)]))
    assert leaving > staying
    # Five-minute citizens, 8 ahead: two rounds of both counters in its last ten minutes (4 called),
    # then the other counter alone calls the other 4, and the citizen after them.
    assert staying == pytest.approx(4 * 300, rel=0.01)
    assert leaving == pytest.approx(2 * 300 + 4 * 300, rel=0.01)
    assert _afternoon(Desk({HT: 1.0}, NOW, spans=[])) == pytest.approx(8 * 300, rel=0.01)  # no more calls today


def test_a_counter_planned_to_open_later_joins_at_its_start() -> None:
    alone = _afternoon(Desk({HT: 1.0}, math.inf))
    joining = _afternoon(Desk({HT: 1.0}, NOW + 900, spans=[(NOW + 900, NOW + 3 * 3600)]))
    assert alone == pytest.approx(8 * 300, rel=0.01)
    assert joining < alone


def test_a_long_queue_runs_slower_once_a_planned_counter_leaves() -> None:
    # Far more ahead than the run follows: the rest is extrapolated per counter's calling time.
    ahead = 3 * MAX_CALLS
    day = [(NOW - 3600, NOW + 150 * ahead)]  # long enough for one counter to call them all
    queues = {(HT, False): Queue(ahead, NOW - 600)}

    def wait(second_spans: list[tuple[float, float]] | None) -> float:
        desks = [Desk({HT: 1.0}, NOW), Desk({HT: 1.0}, NOW, spans=second_spans)]
        return forecast(desks, queues, {HT: Cost(120.0, 30.0 ** 2)}, (HT, False), ahead, NOW, 2, day).wait_s

    both = wait(None)
    # Two counters, two minutes a citizen (the rate seen in the run is a little fast, as above).
    assert both == pytest.approx(ahead * 60, rel=0.05)
    assert wait(day) == pytest.approx(both, rel=1e-6)  # planned as the office works: the same
    # The second leaves after an hour: 60 called by then, the others by one counter alone.
    leaving = wait([(NOW - 3600, NOW + 3600)])
    assert leaving == pytest.approx(3600 + (ahead - 60) * 120, rel=0.06)
    assert leaving - both > 3600


AFTERNOON = datetime(2026, 11, 23, 14, 50, tzinfo=VN)  # the demo office works until 17:30


def _plan(db, hours: dict[int, dict | None]) -> None:
    with db.write() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        for c in s.scalars(select(Counter).where(Counter.office_id == office.id)):
            if c.number in hours:
                c.hours = hours[c.number]
        estimates.forget_topology(s, office.id)


def _newcomer(db, code: str, now: datetime) -> estimates.Eta:
    with db.read() as s:
        service = s.scalar(select(Service).join(Office).where(Office.code == "demo", Service.code == code))
        return estimates.estimate(s, service.office, service.id, now).eta


def test_an_afternoon_estimate_counts_a_counter_planned_to_leave_at_three(db) -> None:
    d = Driver(db)
    for i in range(8):
        d.issue("HT", now=AFTERNOON - timedelta(minutes=20 - i))
    d.act(1, "open_counter", now=AFTERNOON - timedelta(minutes=30))
    d.act(2, "open_counter", now=AFTERNOON - timedelta(minutes=30))
    _plan(db, {1: None, 2: None})
    both_all_afternoon = _newcomer(db, "HT", AFTERNOON)
    _plan(db, {2: {"mon": ["07:30-11:30", "13:30-15:00"]}})
    two_leaving = _newcomer(db, "HT", AFTERNOON)
    assert two_leaving.low > both_all_afternoon.low and two_leaving.high > both_all_afternoon.high


def test_an_estimate_counts_a_counter_planned_to_open_later(db) -> None:
    d = Driver(db)
    for i in range(8):
        d.issue("HT", now=AFTERNOON - timedelta(minutes=20 - i))
    d.act(1, "open_counter", now=AFTERNOON - timedelta(minutes=30))  # counter 2 is closed
    alone = _newcomer(db, "HT", AFTERNOON)
    _plan(db, {2: {"mon": ["15:00-17:30"]}})
    joining = _newcomer(db, "HT", AFTERNOON)
    assert joining.high < alone.high
    _plan(db, {2: {"mon": ["07:30-11:30", "13:30-14:30"]}})  # its day was over: it does not come
    assert _newcomer(db, "HT", AFTERNOON) == alone


# ---- the field's usual day and the real keys of those waiting (issue 18, with history) ------------


def test_newcomers_come_at_the_usual_days_rates() -> None:
    # The usual day: nobody in the hour left, then one a minute from the next hour on.
    q = Queue(0, NOW, rate=1.0, segments=[(NOW, 0.0), (NOW + 3600, 1 / 60)])
    assert q.next_arrival(NOW) == NOW + 3600 + 60
    assert q.available(NOW + 3000, NOW) == 0
    assert q.available(NOW + 3600 + 150, NOW) == 2
    closing = Queue(0, NOW, segments=[(NOW, 1 / 60)], until=NOW + 120)
    assert closing.available(NOW + 3600, NOW) == 2 and closing.key(2, NOW) == math.inf


def test_waiting_citizens_keep_their_own_keys() -> None:
    q = Queue(3, NOW - 900, keys=[NOW - 900, NOW - 890, NOW - 60])
    assert [q.key(i, NOW) for i in range(3)] == [NOW - 900, NOW - 890, NOW - 60]
    assert [Queue(3, NOW - 900).key(i, NOW) for i in range(3)] == [NOW - 900, NOW - 600, NOW - 300]  # evenly spread


def test_a_shared_counter_is_freed_when_the_usual_day_says_the_rush_is_over() -> None:
    # One counter, HT weighted twice CT, busy for 8 more minutes; a CT citizen waits. HT newcomers
    # at 30 an hour (8 minutes each) keep overtaking them; on a usual day nobody comes after now.
    desks = [Desk({HT: 2.0, CT: 1.0}, NOW + 480)]
    costs = {HT: Cost(480.0, 120.0 ** 2), CT: Cost(240.0, 60.0 ** 2)}
    day = [(NOW - 3600, NOW + 4 * 3600)]

    def wait(segments):
        queues = {(HT, False): Queue(0, NOW, rate=30 / 3600, segments=segments), (CT, False): Queue(0, NOW)}
        return forecast(desks, queues, costs, (CT, False), 0, NOW, 2, day)

    assert wait([(NOW, 0.0)]).wait_s == pytest.approx(480)
    rushed = wait(None)
    assert rushed is None or rushed.wait_s > 3 * 480


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, make_app):
    """The demo office on SQLite, then on PostgreSQL (hours of the day are counted in SQL)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    app, _ = make_app(database_url=url)
    return app.extensions["motcua"].db


def test_the_usual_day_is_learned_from_earlier_days(any_db) -> None:
    db = any_db
    d = Driver(db)
    week_ago, six_days_ago = MORNING - timedelta(days=7), MORNING - timedelta(days=6)
    for day, minutes in ((week_ago, (-50, -40, -20, 10)), (six_days_ago, (-45, 20, 30, 40))):
        for m in minutes:
            d.issue("KD", now=day + timedelta(minutes=m))
    for m in (-55, -35, -25, -15, -5, -2):  # today: six in the 8 o'clock hour, three times the usual two
        d.issue("KD", now=at(m))
    with db.read() as s:
        service = s.scalar(select(Service).join(Office).where(Office.code == "demo", Service.code == "KD"))
        estimates.forget_database(str(s.get_bind().url))
        st = field_stats.field_stats(s, service.office_id, service.id, 12, MORNING.date(), MORNING, tz="Asia/Ho_Chi_Minh")
        usual = st.usual
        assert usual.per_hour == {(8, False): 2.0, (9, False): 2.0}
        # Two expected by 09:00, six came: busier than usual, shrunk towards it early in the day.
        prior = field_stats.LEVEL_PRIOR_ARRIVALS
        assert usual.level == pytest.approx((6 + prior) / (2 + prior))
        assert usual.rate(9, False) * 3600 == pytest.approx(2 * usual.level)
        assert usual.rate(9, True) == 0.0
        # The first day: nothing earlier to learn from.
        first = field_stats.field_stats(s, service.office_id, service.id, 12, week_ago.date(), week_ago, tz="Asia/Ho_Chi_Minh")
        assert first.usual is None


def test_a_pause_on_most_days_is_usual_and_a_one_off_is_not() -> None:
    h = 3600.0
    pauses = [(8.8 * h, 900.0), (8.85 * h, 840.0), (8.9 * h, 960.0), (9.0 * h, 900.0),  # four mornings about 08:50
              (14.5 * h, 1200.0)]  # one afternoon
    assert usual_pauses._clusters(pauses, days=5) == [usual_pauses.UsualPause(8.875 * h, 900.0 * 4 / 5)]
    assert usual_pauses._clusters(pauses, days=10) == []  # four days in ten: not usual


def test_a_counters_usual_pause_is_expected_until_it_is_taken_today(any_db, monkeypatch) -> None:
    db = any_db
    d = Driver(db)
    for days in (7, 6, 5, 4):  # counter 1 paused at 08:50 for 15 minutes on four earlier mornings
        day = MORNING - timedelta(days=days)
        d.act(1, "open_counter", now=day - timedelta(minutes=90))
        d.act(1, "pause", "Nghỉ giải lao", now=day - timedelta(minutes=10))
        d.act(1, "resume", now=day + timedelta(minutes=5))
        d.act(1, "close_counter", now=day + timedelta(hours=2))
    with db.read() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        counter = s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == 1))
        estimates.forget_database(str(s.get_bind().url))
        expected = usual_pauses.expected_pauses(s, office.id, MORNING.date(), at(-30), office.timezone)
        assert expected == {counter.id: (at(-10).timestamp(), 900.0)}
    for m in range(6):  # a queue at 08:30, counter 1 the only one open
        d.issue("HT", now=at(-30 + m / 10))
    d.act(1, "open_counter", now=at(-40))

    def eta(now: datetime) -> estimates.Eta:
        with db.read() as s:
            office = s.scalar(select(Office).where(Office.code == "demo"))
            service = s.scalar(select(Service).where(Service.office_id == office.id, Service.code == "HT"))
            return estimates.estimate(s, office, service.id, now).eta

    with_pause = eta(at(-30))
    with monkeypatch.context() as m:
        m.setattr(usual_pauses, "expected_pauses", lambda *args: {})
        without = eta(at(-30))
    assert with_pause.low >= without.low + 10 and with_pause.high >= without.high + 10
    # Taken today at 08:52: not expected again.
    d.act(1, "pause", "Nghỉ giải lao", now=at(-8))
    d.act(1, "resume", now=at(7))
    with db.read() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        assert usual_pauses.expected_pauses(s, office.id, MORNING.date(), at(8), office.timezone) == {}
