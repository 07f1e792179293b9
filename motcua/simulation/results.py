"""A simulated run's figures, read back from its database with the reports' own definitions
(motcua.stats for waits, motcua.accuracy for the estimates): what `motcua simulate` prints."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from motcua import accuracy, stats
from motcua.models import Service, Ticket, TicketLeg, TicketStatus
from motcua.sqltime import ms_between

L, T = TicketLeg.__table__, Ticket.__table__


def _figures(tickets: int, served: int, no_show: int, waits_ms: list[int], counts: dict[str, int], widths: dict[int, int]) -> dict[str, Any]:
    waits_ms.sort()
    eta = accuracy.figures(counts, widths)
    return {
        "tickets": tickets,
        "served": served,
        "no_show": no_show,
        "wait_s": {
            "mean": stats.ms_to_s(stats.mean(sum(waits_ms), len(waits_ms))),
            "median": stats.ms_to_s(stats.median(waits_ms)),
            "p90": stats.ms_to_s(stats.p90(waits_ms)),
        },
        "eta": {
            "within_share": eta["eta_within_share"],
            "mean_abs_error_s": eta["eta_mean_abs_error_s"],
            "median_width_min": eta["eta_median_width_min"],
            "known_share": eta["eta_known_share"],
            "n": eta["eta_n"],
        },
    }


def summarise(session: Session, office_id: int, start: date, end: date) -> dict[str, Any]:
    """Tickets issued, served and absent, waits (every called queue leg) and the estimates'
    accuracy (first legs), over the office's business days [start, end], by field and in all."""
    where = and_(L.c.office_id == office_id, L.c.business_day >= start, L.c.business_day <= end)
    codes = dict(session.execute(select(Service.id, Service.code).where(Service.office_id == office_id)).all())
    outcome = {}
    q = (select(T.c.series_id, T.c.status, func.count())
         .where(T.c.office_id == office_id, T.c.business_day >= start, T.c.business_day <= end)
         .group_by(T.c.series_id, T.c.status))
    for sid, status, n in session.execute(q).all():
        outcome.setdefault(sid, {})[TicketStatus(status)] = n
    waits: dict[int, list[int]] = {}
    dialect = session.get_bind().dialect.name
    for sid, w in session.execute(select(L.c.service_id, ms_between(L.c.called_at, L.c.queued_at, dialect)).where(where, L.c.called_at.is_not(None))):
        waits.setdefault(sid, []).append(int(w))
    counts, widths = accuracy.eta_counts(session, L.c.service_id, where)

    by_service = {}
    total_counts: dict[str, int] = {}
    total_widths: dict[int, int] = {}
    all_waits: list[int] = []
    totals = [0, 0, 0]
    for sid in sorted(set(outcome) | set(waits) | set(counts), key=lambda i: codes.get(i, "")):
        o = outcome.get(sid, {})
        row = (sum(o.values()), o.get(TicketStatus.done, 0), o.get(TicketStatus.no_show, 0))
        by_service[codes.get(sid, str(sid))] = _figures(*row, list(waits.get(sid, [])), counts.get(sid, {}), widths.get(sid, {}))
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        all_waits.extend(waits.get(sid, []))
        accuracy.add(total_counts, counts.get(sid, {}), widths.get(sid, {}), total_widths)
    out = _figures(*totals, all_waits, total_counts, total_widths)
    out["by_service"] = by_service
    return out
