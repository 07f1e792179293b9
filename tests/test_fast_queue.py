"""The staffing search's fast queue model: the runner's clerks and the engine's queue rule for a
field at counters of its own, checked by hand on small cases and against the engine's day runner
on the same citizens."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from motcua import stats
from motcua.config import Config, load_config
from motcua.db import Database
from motcua.engine import clock
from motcua.migrate import upgrade
from motcua.models import TicketLeg
from motcua.simulation import fast_queue as fq
from motcua.simulation.runner import DayRunner, prepare
from motcua.simulation.scenario import FieldSpec, Scenario

CONFIG = Path(__file__).resolve().parent.parent / "bench" / "scenarios" / "commune_config.toml"
H = 3600
DAY = [(7.5 * H, 11.5 * H), (13.5 * H, 17 * H)]
# A busy late morning for two counters, one counter after lunch: some days leave a queue at 11:30.
HT = FieldSpec(service="HT", arrivals_per_hour={"07": 8, "08": 12, "09": 12, "10": 18, "13": 6, "14": 8, "15": 8, "16": 4},
               service_median_min=6.0, service_p90_min=12.0, priority_share=0.2, no_show_share=0.1)
COUNTERS = {1: ["07:30-11:30", "13:30-17:00"], 2: ["07:30-11:30"]}


def test_a_counter_finishes_the_citizen_in_hand_and_the_queue_waits_over_lunch() -> None:
    citizens = fq.Citizens(arrive_s=[11 * H + 20 * 60, 11 * H + 21 * 60], priority=[False, False], busy_s=[900, 300])
    waits = fq.run(citizens, [DAY], ratio=2)
    assert waits[0] == 0  # called at once, served past 11:30
    assert waits[1] == 13.5 * H - (11 * H + 21 * 60)  # the counter closed after the first: the second waits for 13:30
    # No counter in the afternoon: still waiting when the day ends.
    assert fq.run(citizens, [[DAY[0]]], ratio=2)[1] is None


def test_priority_first_but_not_more_than_the_ratio_in_a_row() -> None:
    # Four waiting when the counter opens at 07:30: ordinary, then three priority.
    arrive = [7 * H + 60, 7 * H + 120, 7 * H + 180, 7 * H + 240]
    citizens = fq.Citizens(arrive_s=arrive, priority=[False, True, True, True], busy_s=[600] * 4)
    waits = fq.run(citizens, [DAY], ratio=2)
    called = sorted(range(4), key=lambda i: arrive[i] + waits[i])
    assert called == [1, 2, 0, 3]


def test_the_hour_where_a_wait_passes_the_target() -> None:
    target = 15 * 60
    assert fq.crossing_hour(8 * H, target, DAY) == 8
    assert fq.crossing_hour(10 * H + 50 * 60, target, DAY) == 11
    assert fq.crossing_hour(11 * H + 20 * 60, target, DAY) == 11  # passes it in the lunch break: the morning's last hour
    assert fq.crossing_hour(16 * H + 50 * 60, target, DAY) == 16  # after closing: the day's last hour
    assert fq.crossing_hour(13 * H, target, DAY) == 13  # queued before the afternoon opens
    assert fq.seconds(["07:30-11:30", "13:30-24:00"]) == [(7.5 * H, 11.5 * H), (13.5 * H, 24 * H)]
    assert fq.seconds(["13:30-23:59"]) == [(13.5 * H, 24 * H - 60)]


def test_agrees_with_the_engine_day_runner_on_the_same_citizens(tmp_path: Path) -> None:
    config, _ = load_config(CONFIG)
    office = next(o for o in config.offices if o.code == "xa")
    # Counters of the field's own, as the staffing search gives it.
    office = office.model_copy(update={"counters": [c.model_copy(update={"fields": {"HT": 1}}) for c in office.counters]})
    db = Database(f"sqlite:///{tmp_path / 'sim.db'}")
    try:
        upgrade(db.engine)
        office_id, desks = prepare(db, Config(offices=[office]), office.code)
        groups = [g.code for g in office.priority_groups]
        windows = fq.seconds(clock.spans_for(office.issuing_windows, date(2026, 3, 2)))
        engine: list[float] = []
        model: list[float] = []
        over_lunch = [0, 0]
        for seed in range(4):
            day = date(2026, 3, 2 + 7 * seed)  # Mondays
            sc = Scenario(office=office.code, date=day, counters=COUNTERS, fields=[HT], seed=seed)
            DayRunner(db, office_id, office, sc, desks, random.Random(seed)).run(day)
            with db.read() as s:
                rows = s.execute(select(TicketLeg.queued_at, TicketLeg.called_at).where(TicketLeg.business_day == day)).all()
            day_engine = [float("inf") if c is None else (c - q).total_seconds() for q, c in rows]
            citizens = fq.draw(HT, day, office.timezone, groups, windows, seed)
            day_model = [float("inf") if w is None else w for w in fq.run(citizens, [fq.seconds(s) for s in COUNTERS.values()], office.priority_ratio)]
            assert len(day_model) == len(day_engine) > 50  # the same citizens, those turned away left out alike
            over_lunch[0] += sum(w > 2 * H for w in day_engine)
            over_lunch[1] += sum(w > 2 * H for w in day_model)
            engine += day_engine
            model += day_model
    finally:
        db.dispose()
    engine.sort()
    model.sort()
    assert over_lunch[0] > 0 and over_lunch[1] == pytest.approx(over_lunch[0], abs=max(2, 0.2 * over_lunch[0]))
    finite_e, finite_m = [w for w in engine if w < float("inf")], [w for w in model if w < float("inf")]
    mean_e, mean_m = sum(finite_e) / len(finite_e), sum(finite_m) / len(finite_m)
    assert mean_m == pytest.approx(mean_e, rel=0.05)
    assert stats.p90(model) == pytest.approx(stats.p90(engine), rel=0.05, abs=30)
    assert stats.median(model) == pytest.approx(stats.median(engine), rel=0.1, abs=30)
