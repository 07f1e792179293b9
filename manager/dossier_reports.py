"""Reports by dossier (hồ sơ): the procedure areas the dossier codes carry, one dossier's visits,
and the dossier codes of each ticket for the per-ticket log. Plain functions over a session.

A dossier is tied to the queue leg it was attached in (`dossiers.leg_id`): that leg's wait and
service time, and the rating given after that service, are the dossier's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from manager.reports.base import OUTCOMES_VI, Names, check_range, rating_scale, satisfied
from motcua import stats
from motcua.engine import clock
from motcua.models import Dossier, Office, Rating, Ticket, TicketLeg

D = Dossier.__table__
L = TicketLeg.__table__
T = Ticket.__table__
R = Rating.__table__
NO_AREA = "(không rõ lĩnh vực)"

AREA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("area", "Lĩnh vực thủ tục (theo mã hồ sơ)"),
    ("dossiers", "Số hồ sơ"),
    ("tickets", "Số phiếu"),
    ("returned", "Đã trả kết quả"),
    ("wait_mean_s", "Chờ trung bình (giây)"),
    ("wait_median_s", "Chờ trung vị (giây)"),
    ("wait_p90_s", "Chờ P90 (giây)"),
    ("service_mean_s", "Phục vụ trung bình (giây)"),
    ("ratings", "Số đánh giá"),
    ("satisfaction_rate", "Tỷ lệ hài lòng"),
)


def _in_range(office: Office, start: date, end: date):
    return and_(D.c.office_id == office.id, T.c.business_day >= start, T.c.business_day <= end)


def codes_by_ticket(session: Session, office: Office, start: date, end: date) -> dict[int, str]:
    """Ticket id -> its dossier codes joined with "; " (tickets of the business days [start, end])."""
    q = (select(D.c.ticket_id, D.c.code).select_from(D.join(T, T.c.id == D.c.ticket_id))
         .where(_in_range(office, start, end)).order_by(D.c.ticket_id, D.c.id))
    out: dict[int, list[str]] = defaultdict(list)
    for ticket_id, code in session.execute(q):
        out[ticket_id].append(code)
    return {k: "; ".join(v) for k, v in out.items()}


def _ms(later, earlier) -> int | None:
    return int((later - earlier).total_seconds() * 1000) if later and earlier else None


def by_area(session: Session, office: Office, start: date, end: date) -> list[dict[str, Any]]:
    """Per procedure area: dossiers, tickets, results returned, the waits and service times of the
    legs they were attached in, and the ratings of those services."""
    check_range(start, end)
    q = (
        select(D.c.area, D.c.ticket_id, D.c.returned_at, L.c.queued_at, L.c.called_at, L.c.started_at, L.c.finished_at,
               R.c.score, R.c.scale)
        .select_from(D.join(T, T.c.id == D.c.ticket_id).outerjoin(L, L.c.id == D.c.leg_id).outerjoin(R, R.c.leg_id == D.c.leg_id))
        .where(_in_range(office, start, end))
    )
    acc: dict[str, dict[str, Any]] = {}
    for area, ticket_id, returned_at, queued, called, started, finished, score, scale in session.execute(q):
        a = acc.setdefault(area or NO_AREA, {"dossiers": 0, "tickets": set(), "returned": 0, "waits": [], "services": [],
                                             "ratings": 0, "satisfied": 0})
        a["dossiers"] += 1
        a["tickets"].add(ticket_id)
        a["returned"] += returned_at is not None
        if (w := _ms(called, queued)) is not None:
            a["waits"].append(w)
        if (sv := _ms(finished, started)) is not None:
            a["services"].append(sv)
        if score is not None:
            a["ratings"] += 1
            a["satisfied"] += satisfied(score, scale)
    rows = []
    for area, a in sorted(acc.items(), key=lambda kv: (kv[0] == NO_AREA, kv[0])):
        waits, services = sorted(a["waits"]), sorted(a["services"])
        rows.append({
            "area": area, "dossiers": a["dossiers"], "tickets": len(a["tickets"]), "returned": a["returned"],
            "wait_mean_s": stats.ms_to_s(stats.mean(sum(waits), len(waits))), "wait_median_s": stats.ms_to_s(stats.median(waits)),
            "wait_p90_s": stats.ms_to_s(stats.p90(waits)), "service_mean_s": stats.ms_to_s(stats.mean(sum(services), len(services))),
            "ratings": a["ratings"], "satisfaction_rate": stats.share(a["satisfied"], a["ratings"]),
        })
    return rows


def timeline(session: Session, office: Office, code: str) -> list[dict[str, Any]]:
    """Every visit a dossier came with, oldest first: each queue leg of its tickets with the
    wait, the service, who served it, the outcome and the rating; and when its result was returned."""
    code = (code or "").strip().upper()
    rows = session.execute(
        select(Dossier, Ticket).join(Ticket, Ticket.id == Dossier.ticket_id)
        .where(Dossier.office_id == office.id, Dossier.code == code).order_by(Ticket.issued_at, Dossier.id)
    ).all()
    if not rows:
        return []
    names = Names.load(session, office)
    scale = rating_scale(office)
    tz = office.timezone
    ratings = {r.leg_id: r for r in session.scalars(select(Rating).where(Rating.ticket_id.in_([t.id for _, t in rows])))}
    visits = []
    for d, t in rows:
        legs = []
        for leg in t.legs:
            s = names.services.get(leg.service_id)
            c = names.counters.get(leg.counter_id) if leg.counter_id else None
            r = ratings.get(leg.id)
            legs.append({
                "leg": leg.seq, "service": s.name if s else None, "attached_here": leg.id == d.leg_id,
                "queued_at": clock.local(leg.queued_at, tz), "called_at": clock.local(leg.called_at, tz) if leg.called_at else None,
                "finished_at": clock.local(leg.finished_at, tz) if leg.finished_at else None,
                "wait_s": stats.ms_to_s(_ms(leg.called_at, leg.queued_at)), "service_s": stats.ms_to_s(_ms(leg.finished_at, leg.started_at)),
                "counter": c.number if c else None, "clerk": names.user_name(leg.clerk_id),
                "outcome": OUTCOMES_VI.get(leg.outcome, leg.outcome),
                "rating": (scale[r.score - 1] if r.scale == len(scale) and r.score <= len(scale) else f"{r.score}/{r.scale}") if r else None,
                "rating_reason": r.reason if r else None,
            })
        visits.append({
            "business_day": t.business_day, "ticket": t.code, "source": d.source, "area": d.area,
            "attached_at": clock.local(d.attached_at, tz), "attached_by": names.user_name(d.attached_by_id),
            "returned_at": clock.local(d.returned_at, tz) if d.returned_at else None, "returned_by": names.user_name(d.returned_by_id),
            "legs": legs,
        })
    return visits
