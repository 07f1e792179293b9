"""Staffing advice on a busy centre's month: how long `motcua staffing` takes.

    python -m bench.staffing [--weeks 4] [--scenario bench/scenarios/district.toml]

Makes the history first: the scenario's day (district: 8 fields, 12 counters, ~1,000 tickets)
simulated on every business day of the last `weeks` weeks, into a temporary SQLite database.
Then times `motcua.simulation.staffing.advise` on it (what `motcua staffing` and the manager
page's background job run), and re-simulates every weekday and field through the engine with the
recommended counters and citizens drawn with another seed (`staffing.recheck`, `--check-seeds`
of them), to show that the advice holds. Figures go to docs/benchmarks.md, under the rows of
earlier versions of the search (BEFORE).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.report import write_section
from motcua.db import Database
from motcua.engine import clock
from motcua.simulation.scenario import load_scenario
from motcua.simulation.simulate import run_scenario
from motcua.simulation.staffing import MODEL_DAYS, REPLICAS, advise, recheck

DEFAULT = Path(__file__).parent / "scenarios" / "district.toml"
# Earlier versions of the search, same command: (label, the row's cells after "weeks").
BEFORE = [
    ("before: two engine days per setting, per-hour objective (2026-12-06 10:01, 2 CPUs)",
     "4 | 40 | 510 | — | 915.5 | 132 / 90 | 21 / 40 | 49.0"),
    ("before, rerun alongside the new search's first run, busier machine (2026-12-06 12:24)",
     "4 | 40 | 510 | — | 4020.4 | 132 / 90 | 21 / 40 | 49.0"),
]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--scenario", type=Path, default=DEFAULT)
    ap.add_argument("--check-seeds", type=int, default=1, help="re-simulations with other citizens (seeds 2, 3, …)")
    args = ap.parse_args(argv)
    sc, config, _ = load_scenario(args.scenario)
    oc = next(o for o in config.offices if o.code == sc.office)
    today = clock.business_day(clock.now(), oc.timezone)
    worked = [d for d in (today - timedelta(days=n) for n in range(7 * args.weeks, 0, -1))
              if d not in oc.holidays and clock.spans_for(oc.working_hours, d) != []]
    history = sc.model_copy(update={"date": worked[0], "days": len(worked)})
    tmp = Path(tempfile.mkdtemp(prefix="motcua-bench-staffing-"))
    url = f"sqlite:///{tmp / 'history.db'}"
    try:
        started = time.perf_counter()
        made = run_scenario(history, oc, config, database_url=url)
        made_s = time.perf_counter() - started
        print(f"history: {made['days']} days, {made['tickets']} tickets in {made_s:.0f} s", flush=True)
        db = Database(url)
        try:
            started = time.perf_counter()
            advice = advise(db, sc.office, args.weeks)
            took = time.perf_counter() - started
            print(f"advice: {advice['simulated_days']} engine days, {advice['model_days']} model days in {took:.1f} s", flush=True)
            checks = {}
            for seed in range(2, 2 + args.check_seeds):
                checks.update({f"{seed}:{k}": p for k, p in recheck(db, advice, seed=seed).items()})
        finally:
            db.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = advice["rows"]
    target = advice["target_p90_min"]
    weekdays = sorted({r["weekday"] for r in rows})
    rec = sum(r["recommended"] for r in rows) / len(weekdays)
    real = sum(r["real"] for r in rows) / len(weekdays)
    held = sum(1 for p in checks.values() if p is not None and p <= target)
    worst = max((p for p in checks.values() if p is not None), default=None)
    body = (
        f"`python -m bench.staffing --weeks {args.weeks}`: the history is `{args.scenario.name}`'s day simulated on each of the "
        f"last {args.weeks} weeks' business days ({made['days']} days, {made['tickets']} tickets, {made_s:.0f} s to make); then "
        "`motcua.simulation.staffing.advise` on it, which is what `motcua staffing --weeks "
        f"{args.weeks}` and the manager page's background job run. Target: p90 wait ≤ {target:g} min per field and hour.\n\n"
        "| search | weeks | fields × weekdays | engine field-days | model field-days | advice (s) | counter-hours a day: "
        "recommended / really open | re-simulated through the engine with other citizens: field-days with p90 ≤ target | "
        "worst field-day p90 (min) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        + "".join(f"| {label} | {cells} |\n" for label, cells in BEFORE)
        + f"| now ({args.check_seeds} re-simulation{'s' if args.check_seeds > 1 else ''}) | {args.weeks} | "
        f"{len(checks) // args.check_seeds} | {advice['simulated_days']} | {advice['model_days']} | {took:.1f} | {rec:.0f} / {real:.0f} | "
        f"{held} / {len(checks)} | {'—' if worst is None else f'{worst:.1f}'} |\n\n"
        "The page never waits for this: it runs as a process of its own once a day per (office, weeks, target) and the "
        "page shows \"Đang tính\" until the result is stored (docs/architecture.md, \"Staffing advice\"). Each setting the "
        f"search tries is judged on {MODEL_DAYS} days of the fast queue model (`motcua/simulation/fast_queue.py`); "
        f"the setting found is confirmed through the engine's day runner on {REPLICAS} days of other citizens "
        "(engine field-days), with a counter added where the engine still misses. A re-simulation is the same engine run "
        "with citizens drawn from another seed; it counts a field-day as held when the p90 of its waits, pooled over "
        f"{REPLICAS} days and with anyone never called counting as waiting forever, is under the target."
    )
    print(body)
    write_section("Staffing advice (bench/staffing.py)", body)


if __name__ == "__main__":
    main()
