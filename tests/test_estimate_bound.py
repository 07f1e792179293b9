"""The oracle bound of `bench.estimate_bound` is honest only if its in-memory day is the day the
engine plays: same citizens, same calls, to the millisecond. And its best range keeps to the
goal's width."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.estimate_bound import best_range, bound, play
from motcua.db import Database
from motcua.models import Ticket, TicketLeg
from motcua.simulation.scenario import load_scenario
from motcua.simulation.simulate import run_scenario

RUSH = Path(__file__).parent.parent / "bench" / "scenarios" / "rush.toml"


@pytest.mark.parametrize(("nth", "tickets"), [(0, 93), (2, 88)])
def test_the_in_memory_day_is_the_engines_day(nth: int, tickets: int) -> None:
    """The first day, and the third played after two others (as `bench.estimates --week` plays them)."""
    sc, config, _ = load_scenario(RUSH)
    oc = next(o for o in config.offices if o.code == sc.office)
    day = play(sc, oc, sc.seed, nth)
    mine = [(p.issued, day.called.get(p.id)) for p in day.people]

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/sim.db"
        run_scenario(sc.model_copy(update={"days": nth + 1}), oc, config, database_url=url)
        db = Database(url)
        try:
            with db.read() as s:
                legs = s.execute(select(TicketLeg.queued_at, TicketLeg.called_at).join(Ticket, Ticket.id == TicketLeg.ticket_id)
                                 .where(TicketLeg.seq == 1, Ticket.business_day == day.day).order_by(Ticket.id)).all()
        finally:
            db.dispose()
    engine = [(q.timestamp(), c.timestamp() if c else None) for q, c in legs]
    assert len(mine) == len(engine) == tickets
    for (issued, called), (e_issued, e_called) in zip(mine, engine, strict=True):
        assert abs(issued - e_issued) < 1e-3
        assert (called is None) == (e_called is None)
        if called is not None:
            assert abs(called - e_called) < 1e-3


def test_the_best_range_keeps_to_the_goals_width() -> None:
    low, high, share = best_range([30.0 + i * 0.1 for i in range(100)])  # 30.0 .. 39.9 minutes
    assert share == 1.0 and low <= 30 and high >= 40 and high - low <= max(10, 0.4 * (low + high) / 2)
    # Waits of about an hour: 40 % of the middle is wider than 10 minutes, and the range may use it.
    low, high, share = best_range([55.0, 60.0, 65.0, 70.0, 75.0, 80.0])
    assert high - low <= max(10, 0.4 * (low + high) / 2) and share == 1.0
    # Two clusters far apart: the range holds the bigger one.
    low, high, share = best_range([5.0] * 3 + [120.0] * 7)
    assert low <= 120 <= high and share == 0.7


def test_the_estimators_expected_share_is_never_above_the_best() -> None:
    """Every printed range keeps to the goal's width, so on the same drawn calls it holds at most
    what the best range of that width holds; and the engine's second day is the in-memory one."""
    out = bound(RUSH, 23, samples=8, max_tickets=12, nth=1)
    assert out["engine"]["tickets"] == out["tickets"] == 85
    assert out["evaluated"] == 11  # every 8th ticket of 85
    assert 0 < out["ours"] <= out["bound"] <= 1
