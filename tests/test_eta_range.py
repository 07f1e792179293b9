"""Where the printed range goes: around the expected call, within the width a citizen can plan
with, and on the side of the lunch break where the call most likely falls."""

from __future__ import annotations

from motcua.engine.eta_range import allowed_width, best_range

NOW = 1_000_000.0
MIN = 60.0
# The counters call until 11:30 and from 13:30; "now" is 10:30.
DAY = [(NOW - 180 * MIN, NOW + 60 * MIN), (NOW + 180 * MIN, NOW + 390 * MIN)]


def _width_ok(low: int, high: int) -> bool:
    return high - low <= allowed_width(low, high)


def test_without_a_break_the_range_is_centred_and_keeps_its_width() -> None:
    assert best_range(20 * MIN, 2 * MIN) == best_range(20 * MIN, 2 * MIN, NOW, [])
    low, high = best_range(10 * MIN, 0.5 * MIN)
    assert low < 10 < high and high - low < 10  # a confident model gives a narrow range
    low, high = best_range(90 * MIN, 40 * MIN)
    assert low < 90 < high and high - low == 36 and _width_ok(low, high)  # 40 % of its middle
    low, high = best_range(0.0, 30.0)
    assert low == 0 and 0 < high < 10  # nobody ahead: "under a few minutes"


def test_a_call_expected_well_before_the_break_keeps_the_centred_range() -> None:
    assert best_range(20 * MIN, 3 * MIN, NOW, DAY) == best_range(20 * MIN, 3 * MIN)


def test_a_call_expected_just_before_the_break_does_not_spend_width_on_the_break() -> None:
    low, high = best_range(58 * MIN, 4 * MIN, NOW, DAY)
    assert high == 60 and low < 58 and _width_ok(low, high)  # up to 11:30, none of it in the break
    assert best_range(58 * MIN, 4 * MIN)[1] > 60  # drawn straight, it would reach into the break


def test_a_call_that_likely_crosses_the_break_is_given_the_afternoon() -> None:
    # Expected at 11:28 with a spread of 15 minutes of calling time: most of it falls after
    # the break, where the counters start calling at 13:30, 180 minutes from now.
    low, high = best_range(58 * MIN, 15 * MIN, NOW, DAY)
    assert low == 180 and high > 180 and _width_ok(low, high)
    # A call expected right after the break is not moved before it.
    low, high = best_range(182 * MIN, 5 * MIN, NOW, DAY)
    assert low == 180 and high > 182
