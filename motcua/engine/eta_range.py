"""The printed range: where a citizen's call most likely falls, in whole minutes from now.

The wait model gives the expected call and its spread, both in calling time. Counters do not call
in the lunch break, so a call expected at 11:25 may as well come at 13:35, and a range drawn
straight around 11:25 spends part of its width on minutes nobody is called in. The range is
therefore the one, of the width a citizen can plan with, that holds the most of that spread
counted in calling time: around the expected call, ending at a break's start, or starting at
its end."""

from __future__ import annotations

import math
from itertools import pairwise

from motcua.engine.wait_model import working_seconds

# The central 95 % of the model's spread (z = 2), widened for what the model does not see (8 % of
# the wait, a minute), never wider than 10 minutes or 40 % of its middle. The model is
# over-confident (it cannot see the services and arrivals to come): its central 84 % held about
# 80 % of the calls on the bundled scenarios' days.
Z = 2.0
MODEL_REL = 0.08
MODEL_ABS_MIN = 1.0
WIDTH_MIN = 10
WIDTH_SHARE = 0.4

Spans = list[tuple[float, float]]


def allowed_width(low: float, high: float) -> float:
    """The widest range a citizen can plan with, for a range with this middle (minutes)."""
    return max(WIDTH_MIN, WIDTH_SHARE * (low + high) / 2)


def best_range(wait_s: float, sd_s: float, now: float = 0.0, spans: Spans | None = None) -> tuple[int, int]:
    """(low, high) in minutes from `now` (epoch seconds) for a call expected after `wait_s` of
    calendar time with a spread of `sd_s` of calling time; `spans`: today's working spans."""
    wait = max(wait_s, 0.0) / 60
    sd = math.sqrt((sd_s / 60) ** 2 + (MODEL_REL * wait) ** 2 + MODEL_ABS_MIN ** 2)
    centred = _centred(wait, sd)
    breaks = [(end, start) for (_, end), (start, _) in pairwise(spans or []) if start > now]
    if not breaks:
        return centred
    expected = _calling_min(spans, now, wait)

    def held(rng: tuple[int, int]) -> float:
        a, b = (_calling_min(spans, now, x) for x in rng)
        return _below((b - expected) / sd) - _below((a - expected) / sd)

    candidates = [centred]
    for end, start in breaks:
        if end > now:  # up to the break
            high = math.ceil((end - now) / 60)
            width = min(2 * Z * sd, max(WIDTH_MIN, WIDTH_SHARE * high / (1 + WIDTH_SHARE / 2)))
            candidates.append(_shrunk(max(0, high - math.ceil(width)), high))
        low = max(0, math.floor((start - now) / 60))  # from the counters' return
        width = min(2 * Z * sd, max(WIDTH_MIN, WIDTH_SHARE * low / (1 - WIDTH_SHARE / 2)))
        candidates.append(_shrunk(low, low + max(1, math.ceil(width))))
    return max(candidates, key=held)  # the first of equals: the centred one


def _centred(wait: float, sd: float) -> tuple[int, int]:
    half = min(Z * sd, allowed_width(wait, wait) / 2)
    low = max(0, math.floor(wait - half))
    return _shrunk(low, max(math.ceil(wait + half), low + 1))


def _shrunk(low: int, high: int) -> tuple[int, int]:
    """Whole minutes never make a range wider than allowed: its top comes down."""
    while high - low > allowed_width(low, high) and high - low > 1:
        high -= 1
    return low, high


def _calling_min(spans: Spans, now: float, minutes: float) -> float:
    """Minutes of calling time in the next `minutes` from now."""
    return working_seconds(spans, now, now + minutes * 60) / 60


def _below(z: float) -> float:
    """P(Z ≤ z) for a standard normal Z."""
    return 0.5 * math.erfc(-z / math.sqrt(2))
