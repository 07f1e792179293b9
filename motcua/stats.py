"""Exact descriptive statistics over integer durations (milliseconds).

Definitions (the reports and manager/README.md refer to these):

- mean: sum / n.
- median: the middle value of the sorted list; for an even n, the mean of the two middle
  values (what Excel's MEDIAN and most people expect).
- p90: nearest rank: the value at rank ceil(0.9 × n) of the sorted list (1-based), so it is
  always a waiting time somebody really had: "90 % of citizens waited at most this long".
  ceil(0.9 × n) is computed in integers as (9n + 9) // 10, so no float rounding can move it.

All are None for an empty list.
"""

from __future__ import annotations

from collections.abc import Sequence


def p90_rank(n: int) -> int:
    """1-based nearest rank of the 90th percentile: ceil(9n/10)."""
    return (9 * n + 9) // 10


def median(sorted_values: Sequence[int]) -> float | None:
    n = len(sorted_values)
    if n == 0:
        return None
    mid = n // 2
    if n % 2:
        return float(sorted_values[mid])
    return (sorted_values[mid - 1] + sorted_values[mid]) / 2


def p90(sorted_values: Sequence[int]) -> float | None:
    n = len(sorted_values)
    if n == 0:
        return None
    return float(sorted_values[p90_rank(n) - 1])


def mean(total: int, n: int) -> float | None:
    return total / n if n else None


def ms_to_s(ms: float | None) -> float | None:
    """Milliseconds to seconds, kept to the millisecond."""
    return None if ms is None else round(ms / 1000, 3)


def ms_to_min(ms: float | None, digits: int = 2) -> float | None:
    return None if ms is None else round(ms / 60000, digits)


def share(part: int, whole: int) -> float | None:
    """A fraction in [0, 1], kept to 4 decimals (0.1 % on pages)."""
    return round(part / whole, 4) if whole else None
