"""The estimator motcua printed before issue 18, kept only so bench/estimates.py can show its
figures beside the new one's: ahead × recent mean service ÷ open counters, −25 % / +25 %."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.engine import clock
from motcua.engine.estimates import UNKNOWN, Estimate, Eta
from motcua.models import Counter, CounterService, CounterStatus, Service, TicketLeg, WaitingCount

RECENT_LEGS = 30
RECENT_DAYS = 7


def estimate(session: Session, office, service_id: int, now: datetime, *, priority: bool = False,
             ahead: int | None = None, key: float | None = None) -> Estimate:
    day = clock.business_day(now, office.timezone)
    row = session.execute(select(WaitingCount.waiting, WaitingCount.priority)
                          .where(WaitingCount.service_id == service_id, WaitingCount.business_day == day)).first()
    waiting, prio = (row or (0, 0))
    if ahead is None:
        ahead = prio if priority else waiting
    open_counters = session.scalar(
        select(func.count()).select_from(CounterService).join(Counter, Counter.id == CounterService.counter_id)
        .where(CounterService.service_id == service_id, Counter.status == CounterStatus.open, Counter.active)) or 0
    if open_counters == 0:
        return Estimate(UNKNOWN, UNKNOWN, waiting, prio)
    service = session.get(Service, service_id)
    recent = (select(TicketLeg.finished_at, TicketLeg.started_at)
              .where(TicketLeg.office_id == office.id, TicketLeg.business_day >= (now - timedelta(days=RECENT_DAYS + 1)).date(),
                     TicketLeg.service_id == service_id, TicketLeg.outcome == "served", TicketLeg.finished_at <= now)
              .order_by(TicketLeg.finished_at.desc()).limit(RECENT_LEGS))
    durations = [(f - s).total_seconds() for f, s in session.execute(recent) if f and s]
    mean = max(sum(durations) / len(durations) if durations else service.service_minutes * 60, 30.0)
    per_person = mean / open_counters

    def eta(n: int) -> Eta:
        low = math.floor(0.75 * n * per_person / 60)
        return Eta(low, max(math.ceil(1.25 * (n + 1) * per_person / 60), low + 1))

    return Estimate(eta(ahead), eta(waiting + 1), waiting, prio)
