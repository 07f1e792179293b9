"""The report's charts: arrivals by weekday and hour, and the histogram of waiting times."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from manager.reports.base import L, check_range, dialect_of, in_range
from motcua.models import Office
from motcua.sqltime import iso_weekday, local_hour

# Waiting-time histogram: 5-minute bins up to an hour, then one open bin.
HISTOGRAM_STEP_MIN = 5
HISTOGRAM_LAST_MIN = 60


def arrivals_heatmap(session: Session, office: Office, start: date, end: date) -> list[list[int]]:
    """Tickets issued by weekday (rows, Monday first) and local hour (columns 0–23)."""
    check_range(start, end)
    dialect = dialect_of(session)
    wd = iso_weekday(L.c.business_day, dialect).label("wd")
    hr = local_hour(L.c.queued_at, office.timezone, start, end, dialect).label("hr")
    grid = [[0] * 24 for _ in range(7)]
    q = select(wd, hr, func.count()).where(in_range(office, start, end), L.c.seq == 1).group_by(wd, hr)
    for w, h, n in session.execute(q):
        grid[int(w) - 1][int(h)] += n
    return grid


def wait_histogram(waits_ms: list[int]) -> list[dict[str, Any]]:
    """Counts of waits in 5-minute bins, [low, high) minutes; the last bin is open-ended."""
    edges = list(range(0, HISTOGRAM_LAST_MIN + 1, HISTOGRAM_STEP_MIN))
    bins = [{"from_min": lo, "to_min": hi, "count": 0} for lo, hi in pairwise(edges)]
    bins.append({"from_min": HISTOGRAM_LAST_MIN, "to_min": None, "count": 0})
    step_ms = HISTOGRAM_STEP_MIN * 60000
    for w in waits_ms:
        bins[min(w // step_ms, len(bins) - 1) if w >= 0 else 0]["count"] += 1
    return bins
