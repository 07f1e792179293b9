"""Wait estimates on simulated days: the estimator before issue 18 beside the current one.

    python -m bench.estimates [SCENARIO.toml ...]

Each scenario (default: every bench/scenarios/*.toml naming a config) runs twice with the same
seed, so the same citizens arrive and are served alike (estimates never change the queue):
once with the old estimator patched into issuing, once with the current one. The goal: at
least 80 % of called citizens called inside their range, a median width of at most 10 minutes
or 40 % of the range's middle, and a known estimate for more than 95 % of tickets of a field
on a day its queue was served. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench import legacy_estimate
from bench.report import write_section
from motcua.engine import tickets
from motcua.simulation.simulate import simulate

SCENARIOS = Path(__file__).parent / "scenarios"


def run(path: Path, legacy: bool) -> tuple[dict, float]:
    current = tickets.estimate
    if legacy:
        tickets.estimate = legacy_estimate.estimate
    try:
        started = time.perf_counter()
        out = simulate(path)
        return out, time.perf_counter() - started
    finally:
        tickets.estimate = current


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f} %"


def row(name: str, which: str, out: dict, took: float) -> str:
    eta = out["eta"]
    width = "—" if eta["median_width_min"] is None else f"{eta['median_width_min']:.1f}"
    mae = "—" if eta["mean_abs_error_s"] is None else f"{eta['mean_abs_error_s'] / 60:.1f}"
    return (f"| {name} | {which} | {out['tickets']} | {out['wait_s']['mean'] / 60:.1f} | {out['wait_s']['p90'] / 60:.1f} | "
            f"{_pct(eta['within_share'])} | {width} | {mae} | {_pct(eta['known_share'])} | {took:.1f} |")


def main(argv: list[str]) -> None:
    paths = [Path(a) for a in argv] or sorted(p for p in SCENARIOS.glob("*.toml") if "config" not in p.name)
    lines = ["| scenario | estimator | tickets | mean wait (min) | p90 wait (min) | called within range | median width (min) "
             "| mean abs. error (min) | known | run (s) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for path in paths:
        for which, legacy in (("old", True), ("new", False)):
            out, took = run(path, legacy)
            lines.append(row(path.stem, which, out, took))
            print(lines[-1], flush=True)
    body = ("`python -m bench.estimates` (every scenario of `bench/scenarios/`, one day each, its own seed; the same "
            "citizens for both estimators). *Old*: ahead × recent mean service ÷ open counters, −25 %/+25 %. *New*: "
            "`motcua.engine.estimates` (a run of the engine's queue order on the state at issue). Goal: ≥ 80 % within "
            "range, median width ≤ max(10 min, 40 % of the middle), known > 95 %. *run* is the whole simulated day, "
            "on a 2-core machine shared with other work.\n\n" + "\n".join(lines) + "\n")
    write_section("Wait estimates on simulated days", body)


if __name__ == "__main__":
    main(sys.argv[1:])
