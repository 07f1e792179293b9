"""Wait estimates on simulated days: the estimator before issue 18 beside the current one.

    python -m bench.estimates [--week] [SCENARIO.toml ...]

Each scenario (default: every bench/scenarios/*.toml and bench/scenarios/unseen/*.toml naming a
config; the unseen ones were never used to choose the estimator's constants) runs twice with the same
seed, so the same citizens arrive and are served alike (estimates never change the queue):
once with the old estimator patched into issuing, once with the current one. The goal: at
least 80 % of called citizens called inside their range, a median width of at most 10 minutes
or 40 % of the range's middle, and a known estimate for more than 95 % of tickets of a field
on a day its queue was served. Beside them: the share of citizens called before their range
(early) and after it (late), and the mean time of one `estimate()` call while issuing that day
(the caches warm as they are in service). Figures go to docs/benchmarks.md.

With --week, each scenario runs five business days in a row instead of its one, and the figures
are those of days 2 to 5: an office in service has earlier days, from which the estimator learns
the fields' service times and their usual day (arrivals hour by hour); the first day has none.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import case, func, select

from bench import legacy_estimate
from bench.report import pct, write_section
from motcua.db import Database
from motcua.engine import tickets
from motcua.models import Office, Ticket, TicketLeg
from motcua.simulation.results import summarise
from motcua.simulation.scenario import load_scenario
from motcua.simulation.simulate import business_days, run_scenario, simulate
from motcua.sqltime import ms_between

L, T = TicketLeg.__table__, Ticket.__table__

SCENARIOS = Path(__file__).parent / "scenarios"
WEEK = 5  # days run with --week; the figures are those of days 2..WEEK


def run(path: Path, legacy: bool, week: bool = False) -> tuple[dict, float, float]:
    """The scenario's figures, its run time (s) and the mean time of one estimate at issuing (ms)."""
    current = tickets.estimate
    fn = legacy_estimate.estimate if legacy else current
    spent = [0.0, 0]

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started
            spent[1] += 1

    tickets.estimate = timed
    try:
        tmp = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
        url = f"sqlite:///{tmp / 'sim.db'}"
        started = time.perf_counter()
        if week:
            out = _week(path, url)
        else:
            out = simulate(path, database_url=url)
            out["eta"].update(_early_late(url))
        took = time.perf_counter() - started
        return out, took, 1000 * spent[0] / max(spent[1], 1)
    finally:
        tickets.estimate = current
        shutil.rmtree(tmp, ignore_errors=True)


def _week(path: Path, url: str) -> dict:
    """Run the scenario for WEEK business days; the figures of days 2..WEEK."""
    sc, config, _ = load_scenario(path)
    sc = sc.model_copy(update={"days": WEEK})
    oc = next(o for o in config.offices if o.code == sc.office)
    run_scenario(sc, oc, config, database_url=url)
    days = business_days(oc, sc.date, WEEK)
    db = Database(url)
    try:
        with db.read() as s:
            out = summarise(s, s.scalar(select(Office.id).where(Office.code == sc.office)), days[1], days[-1])
    finally:
        db.dispose()
    out["eta"].update(_early_late(url, since=days[1]))
    return out


def _early_late(url: str, since=None) -> dict[str, float | None]:
    """The shares of called first legs with a range that were called before it, and after it
    (from the business day `since` on, when given)."""
    db = Database(url)
    try:
        with db.read() as s:
            dialect = s.get_bind().dialect.name
            w = ms_between(L.c.called_at, L.c.queued_at, dialect)
            n, early, late = s.execute(
                select(func.count(), func.sum(case((w < T.c.eta_low * 60000, 1), else_=0)),
                       func.sum(case((w > T.c.eta_high * 60000, 1), else_=0)))
                .select_from(L.join(T, T.c.id == L.c.ticket_id))
                .where(L.c.seq == 1, L.c.called_at.is_not(None), T.c.eta_low.is_not(None),
                       L.c.business_day >= since if since is not None else L.c.seq == 1)).one()
    finally:
        db.dispose()
    return {"early_share": (early or 0) / n if n else None, "late_share": (late or 0) / n if n else None}


def row(name: str, which: str, out: dict, took: float, per_call_ms: float) -> str:
    eta = out["eta"]
    width = "—" if eta["median_width_min"] is None else f"{eta['median_width_min']:.1f}"
    mae = "—" if eta["mean_abs_error_s"] is None else f"{eta['mean_abs_error_s'] / 60:.1f}"
    return (f"| {name} | {which} | {out['tickets']} | {out['wait_s']['mean'] / 60:.1f} | {out['wait_s']['p90'] / 60:.1f} | "
            f"{pct(eta['within_share'])} | {pct(eta['early_share'])} | {pct(eta['late_share'])} | {width} | {mae} | "
            f"{pct(eta['known_share'])} | {per_call_ms:.2f} | {took:.1f} |")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    week = "--week" in argv
    paths = [Path(a) for a in argv if a != "--week"] or [p for d in (SCENARIOS, SCENARIOS / "unseen")
                                                         for p in sorted(d.glob("*.toml")) if "config" not in p.name]
    lines = ["| scenario | estimator | tickets | mean wait (min) | p90 wait (min) | called within range | early | late "
             "| median width (min) | mean abs. error (min) | known | one estimate (ms) | run (s) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for path in paths:
        name = path.stem if path.resolve().parent == SCENARIOS.resolve() else f"{path.parent.name}/{path.stem}"
        for which, legacy in (("old", True), ("new", False)):
            out, took, per_call = run(path, legacy, week)
            lines.append(row(name, which, out, took, per_call))
            print(lines[-1], flush=True)
    if week:
        body = (f"`python -m bench.estimates --week`: each scenario of `bench/scenarios/` and `bench/scenarios/unseen/` run "
                f"for {WEEK} business days in a row (its own seed, the same citizens for both estimators), figures over days "
                f"2–{WEEK} only: the estimator has the earlier days as history (service times, the fields' usual day hour by "
                "hour), as in an office in service. Columns as in the table above; *run* is the whole week.\n\n"
                + "\n".join(lines) + "\n")
        write_section("Wait estimates after a week in service", body)
        return
    body = ("`python -m bench.estimates` (every scenario of `bench/scenarios/` and `bench/scenarios/unseen/`, one day "
            "each, its own seed; the same citizens for both estimators; the unseen ones played no part in choosing the "
            "estimator). *Old*: ahead × recent mean service ÷ open counters, −25 %/+25 %. *New*: "
            "`motcua.engine.estimates` (a run of the engine's queue order on the state at issue). Goal: ≥ 80 % within "
            "range, median width ≤ max(10 min, 40 % of the middle), known > 95 %. *early*/*late*: called before / after "
            "the range. *one estimate*: mean time of one `estimate()` call at issuing that day. *run* is the whole "
            "simulated day, on a 2-core machine shared with other work.\n\n" + "\n".join(lines) + "\n")
    write_section("Wait estimates on simulated days", body)


if __name__ == "__main__":
    main(sys.argv[1:])
