"""The public wait board of an office (`/public/<office>`, `GET /api/v1/public/offices/<code>`):
for a citizen at home deciding when to come, each field's waiting count, estimate and whether it
issues now (and takes remote numbers), and, published as the one-stop rules ask, the last 30 days'
average wait and satisfaction rate per field."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from motcua.engine import clock, remote
from motcua.engine.views import iso, service_view
from motcua.models import Office, Rating, Service, TicketLeg
from motcua.sqltime import ms_between

HISTORY_DAYS = 30


def satisfied(score, scale):
    """The upper half of the scale counts as satisfied (score 1 is the best level): 'Rất hài lòng'
    and 'Hài lòng' of four or five levels, the best one of two or three."""
    return score * 2 <= case((scale < 4, 2), else_=scale)


def history(session: Session, office: Office, today) -> dict[int, dict]:
    """Per field id: the last HISTORY_DAYS days' (today excluded) called legs, mean wait in minutes,
    ratings and the share of them satisfied."""
    since = today - timedelta(days=HISTORY_DAYS)
    dialect = session.get_bind().dialect.name
    wait_ms = ms_between(TicketLeg.called_at, TicketLeg.queued_at, dialect)
    legs = session.execute(
        select(TicketLeg.service_id, func.count(), func.avg(wait_ms))
        .where(TicketLeg.office_id == office.id, TicketLeg.business_day >= since, TicketLeg.business_day < today,
               TicketLeg.called_at.is_not(None))
        .group_by(TicketLeg.service_id)).all()
    ratings = session.execute(
        select(Rating.service_id, func.count(), func.sum(case((satisfied(Rating.score, Rating.scale), 1), else_=0)))
        .where(Rating.office_id == office.id, Rating.business_day >= since, Rating.business_day < today)
        .group_by(Rating.service_id)).all()
    out: dict[int, dict] = {}
    for sid, n, avg_ms in legs:
        out.setdefault(sid, {})["served"] = n
        out[sid]["avg_wait_minutes"] = round(float(avg_ms) / 60000, 1) if avg_ms is not None else None
    for sid, n, good in ratings:
        out.setdefault(sid, {})["ratings"] = n
        out[sid]["satisfaction_percent"] = round(100 * int(good or 0) / n, 1) if n else None
    return out


def board(session: Session, office: Office, now: datetime | None = None) -> dict:
    now = now or clock.now()
    today = clock.business_day(now, office.timezone)
    services = session.scalars(select(Service).where(Service.office_id == office.id, Service.active)
                               .order_by(Service.sort_order, Service.id)).all()
    views = remote.remote_fields(session, office, [service_view(session, office, s, now) for s in services], now)
    past = history(session, office, today)
    fields = []
    for s, view in zip(services, views, strict=True):
        h = past.get(s.id, {})
        fields.append(dict(view, last_30_days={"served": h.get("served", 0), "avg_wait_minutes": h.get("avg_wait_minutes"),
                                               "ratings": h.get("ratings", 0), "satisfaction_percent": h.get("satisfaction_percent")}))
    return {"office": {"code": office.code, "name": office.name, "address": office.address},
            "remote_enabled": remote.RemoteSettings.of(office.settings).enabled,
            "business_day": today.isoformat(), "updated_at": iso(now), "history_days": HISTORY_DAYS, "services": fields}
