"""`motcua simulate`: one scenario, one or more business days, in a fresh database."""

from __future__ import annotations

import random
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from motcua.config import OfficeConfig
from motcua.db import Database
from motcua.engine import clock, estimates
from motcua.migrate import upgrade
from motcua.simulation.results import summarise
from motcua.simulation.runner import DayCounts, DayRunner, plan_hours, prepare
from motcua.simulation.scenario import Scenario, load_scenario


def business_days(oc: OfficeConfig, first: date, n: int) -> list[date]:
    """The first n days from `first` on which the office works (working hours, holidays)."""
    holidays = set(oc.holidays)
    days, day = [], first
    while len(days) < n:
        spans = clock.spans_for(oc.working_hours, day)
        if day not in holidays and (spans is None or spans):
            days.append(day)
        day += timedelta(days=1)
    return days


def run_scenario(sc: Scenario, oc: OfficeConfig, config, *, seed: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    """Run the scenario's days on a database (a temporary SQLite one unless given) and summarise."""
    tmp = None
    if database_url is None:
        tmp = Path(tempfile.mkdtemp(prefix="motcua-sim-"))
        database_url = f"sqlite:///{tmp / 'sim.db'}"
    db = Database(database_url)
    try:
        upgrade(db.engine)
        estimates.forget_database(str(db.engine.url))
        office_id, desks = prepare(db, config, sc.office)
        plan_hours(db, desks, sc.counters)
        seed = sc.seed if seed is None else seed
        rng = random.Random(seed)
        runner = DayRunner(db, office_id, oc, sc, desks, rng)
        days = business_days(oc, sc.date, sc.days)
        total = DayCounts()
        for day in days:
            counts = runner.run(day)
            total.issued += counts.issued
            total.turned_away += counts.turned_away
        with db.read() as s:
            out = summarise(s, office_id, days[0], days[-1])
        return {"office": sc.office, "from": days[0].isoformat(), "to": days[-1].isoformat(), "days": len(days), "seed": seed,
                "turned_away": total.turned_away, **out}
    finally:
        db.dispose()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def simulate(path: str | Path, *, seed: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    sc, config, _ = load_scenario(path)
    oc = next(o for o in config.offices if o.code == sc.office)
    return run_scenario(sc, oc, config, seed=seed, database_url=database_url)
