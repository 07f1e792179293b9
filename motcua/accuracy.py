"""Estimate accuracy: the ranges printed on tickets against the real waits. One definition and
one piece of code for the manager's reports and the simulator (`motcua simulate`).

Over first legs (the queue a ticket was issued into), in a set of legs given as a condition:
- eta_n: legs that were called and had a range printed; eta_within: of those, the legs whose
  wait (called_at − queued_at) fell inside [eta_low, eta_high] minutes, both ends included;
  eta_within_share = eta_within / eta_n;
- eta_mean_error_s: mean signed distance from the range (0 inside; positive when the citizen
  waited longer than told); eta_mean_abs_error_s: the same without the sign;
- eta_median_width_min: median of eta_high − eta_low over the legs with a range printed;
- eta_known_share: of the first legs issued in a field on a day its queue was served (some leg
  of that field and day was called), the share that were printed a range rather than
  "không xác định".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from motcua import stats
from motcua.models import Ticket, TicketLeg
from motcua.sqltime import ms_between

L = TicketLeg.__table__
T = Ticket.__table__
COUNT_KEYS = ("eta_n", "eta_within", "eta_error_ms", "eta_abs_error_ms", "eta_open_issued", "eta_open_known")


def _flag(cond) -> Any:
    return func.sum(case((cond, 1), else_=0))


def eta_counts(session: Session, key: Any, where: Any) -> tuple[dict[Any, dict[str, int]], dict[Any, dict[int, int]]]:
    """Per group key (a column expression over ticket_legs): the counts above, and how many
    printed ranges had each width in minutes (for an exact median)."""
    dialect = session.get_bind().dialect.name
    # The wait is computed once, in a subquery that OFFSET 0 keeps the planner from merging into the sums.
    first = (
        select(key.label("k"), ms_between(L.c.called_at, L.c.queued_at, dialect).label("w"), T.c.eta_low, T.c.eta_high)
        .select_from(L.join(T, T.c.id == L.c.ticket_id))
        .where(where, L.c.seq == 1, L.c.called_at.is_not(None), T.c.eta_low.is_not(None), T.c.eta_high.is_not(None))
        .offset(0)
        .subquery()
    )
    low_ms, high_ms = first.c.eta_low * 60000, first.c.eta_high * 60000
    err = case((first.c.w < low_ms, first.c.w - low_ms), (first.c.w > high_ms, first.c.w - high_ms), else_=0)
    q = select(first.c.k, func.count(), _flag(and_(first.c.w >= low_ms, first.c.w <= high_ms)), func.sum(err), func.sum(func.abs(err)))
    counts: dict[Any, dict[str, int]] = {}
    for k, n, within, err_sum, abs_sum in session.execute(q.group_by(first.c.k)).all():
        counts[k] = {"eta_n": int(n), "eta_within": int(within or 0), "eta_error_ms": int(err_sum or 0), "eta_abs_error_ms": int(abs_sum or 0)}

    other = L.alias("served")
    served_that_day = exists().where(other.c.office_id == L.c.office_id, other.c.business_day == L.c.business_day,
                                     other.c.service_id == L.c.service_id, other.c.called_at.is_not(None))
    width = T.c.eta_high - T.c.eta_low
    q = (
        select(key.label("k"), width, func.count(), _flag(served_that_day))
        .select_from(L.join(T, T.c.id == L.c.ticket_id))
        .where(where, L.c.seq == 1)
        .group_by(key, width)
    )
    widths: dict[Any, dict[int, int]] = {}
    for k, w, n, open_n in session.execute(q).all():
        c = counts.setdefault(k, dict.fromkeys(COUNT_KEYS[:4], 0))
        c["eta_open_issued"] = c.get("eta_open_issued", 0) + int(open_n or 0)
        if w is not None:
            c["eta_open_known"] = c.get("eta_open_known", 0) + int(open_n or 0)
            widths.setdefault(k, {})[int(w)] = widths.get(k, {}).get(int(w), 0) + int(n)
    return counts, widths


def median_width(widths: dict[int, int]) -> float | None:
    """The median (stats.median's definition) of widths counted by value."""
    n = sum(widths.values())
    if not n:
        return None

    def at(rank: int) -> int:  # 0-based rank in the sorted widths
        seen = 0
        for w in sorted(widths):
            seen += widths[w]
            if rank < seen:
                return w
        raise IndexError(rank)

    return float(at(n // 2)) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2


def figures(counts: dict[str, int], widths: dict[int, int]) -> dict[str, Any]:
    c = {k: counts.get(k, 0) for k in COUNT_KEYS}
    return {
        "eta_n": c["eta_n"],
        "eta_within": c["eta_within"],
        "eta_within_share": stats.share(c["eta_within"], c["eta_n"]),
        "eta_mean_error_s": stats.ms_to_s(stats.mean(c["eta_error_ms"], c["eta_n"])),
        "eta_mean_abs_error_s": stats.ms_to_s(stats.mean(c["eta_abs_error_ms"], c["eta_n"])),
        "eta_median_width_min": median_width(widths),
        "eta_known_share": stats.share(c["eta_open_known"], c["eta_open_issued"]),
    }


def add(into: dict, counts: dict[str, int], widths: dict[int, int], into_widths: dict[int, int]) -> None:
    """Sum one group's counts and widths into a total."""
    for k, v in counts.items():
        into[k] = into.get(k, 0) + v
    for w, n in widths.items():
        into_widths[w] = into_widths.get(w, 0) + n
