"""The simulator: deterministic per seed, driven by the engine's own rules, strict scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from motcua.config import WEEKDAYS
from motcua.db import Database
from motcua.engine import queue_order
from motcua.models import Counter
from motcua.simulation.scenario import ScenarioError, load_scenario
from motcua.simulation.simulate import simulate

CONFIG = Path(__file__).resolve().parent.parent / "bench" / "scenarios" / "commune_config.toml"

SMALL = f"""
config = "{CONFIG}"
office = "xa"
date = "2026-03-02"
seed = 5

[counters]
1 = ["07:30-09:30"]
2 = ["07:30-09:30"]

[[pauses]]
counter = 2
at = "08:00"
minutes = 10

[[fields]]
service = "HT"
arrivals_per_hour = {{ "07" = 10, "08" = 14 }}
service_median_min = 5.0
service_p90_min = 11.0
priority_share = 0.3
no_show_share = 0.3
transfer_share = 0.1
transfer_to = "CT"

[[fields]]
service = "CT"
arrivals_per_hour = {{ "07" = 14, "08" = 16 }}
service_median_min = 3.0
service_p90_min = 6.0
priority_share = 0.3
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "day.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_same_seed_same_day_and_another_seed_another(tmp_path: Path) -> None:
    path = _write(tmp_path, SMALL)
    first, again, other = simulate(path), simulate(path), simulate(path, seed=6)
    assert first == again
    assert first != other
    assert first["tickets"] > 20 and first["served"] + first["no_show"] <= first["tickets"]
    assert set(first["by_service"]) == {"HT", "CT"}
    assert set(first["eta"]) >= {"within_share", "mean_abs_error_s", "median_width_min", "known_share"}
    assert first["no_show"] > 0  # the no-show share reached the engine's no_show


def test_the_engine_rule_decides_the_simulated_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, SMALL)
    before = simulate(path)
    # Priority citizens never go first: the engine's rule (which call next uses) ignores them.
    original = queue_order.pick_at

    def ordinary_first(heads, weights, streak, ratio, now_ts):
        return original(heads, weights, ratio, ratio, now_ts)

    monkeypatch.setattr(queue_order, "pick_at", ordinary_first)
    after = simulate(path)
    assert after["tickets"] == before["tickets"]  # the same citizens came
    assert after["wait_s"] != before["wait_s"]  # and were called in another order


def test_the_scenario_counter_spans_are_their_planned_hours(tmp_path: Path) -> None:
    # The pause is not planned: it stays out of the hours.
    path = _write(tmp_path, SMALL.replace('2 = ["07:30-09:30"]', '2 = ["08:00-09:00"]', 1))
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    simulate(path, database_url=url)
    db = Database(url)
    try:
        with db.read() as s:
            hours = {c.number: c.hours for c in s.scalars(select(Counter))}
    finally:
        db.dispose()
    assert hours[1] == {d: ["07:30-09:30"] for d in WEEKDAYS}
    assert hours[2] == {d: ["08:00-09:00"] for d in WEEKDAYS}


@pytest.mark.parametrize(("patch", "key", "problem"), [
    (("service_p90_min = 11.0", "service_p90_min = 4.0"), "fields[0]", "service_p90_min must exceed"),
    (("seed = 5", "seed = 5\ndays = 0"), "days", "greater than or equal to 1"),
    (('"07" = 10', '"25" = 10'), "fields[0].arrivals_per_hour", "must be 00–23"),
    (('service = "CT"', 'service = "ZZ"'), "fields[1].service", "no field 'ZZ'"),
    (("counter = 2", "counter = 3"), "pauses[0].counter", "counter 3 is not in [counters]"),
    (('1 = ["07:30-09:30"]', '1 = ["09:30-07:30"]'), "counters.1", "end must be after start"),
    (("seed = 5", "seed = 5\nspeed = 2"), "speed", "Extra inputs are not permitted"),
])
def test_bad_scenarios_name_the_key_and_the_problem(tmp_path: Path, patch: tuple[str, str], key: str, problem: str) -> None:
    path = _write(tmp_path, SMALL.replace(*patch, 1))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    line = next(x for x in str(err.value).splitlines() if problem in x)
    assert key in line


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="TOML"):
        load_scenario(_write(tmp_path, "office = "))
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "none.toml")
