"""Honest wait estimates: a range from recent service times and the counters open now.

No open counter serving a field means nobody can say when the citizen will be served:
the estimate is then "không xác định" rather than a made-up number."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from motcua.models import Counter, CounterService, CounterStatus, Service, TicketLeg

RECENT_LEGS = 30
RECENT_DAYS = 7
# The mean of recent service times moves slowly: reuse it for this long (in the `now` the
# caller passes), and forget it as soon as a citizen of that field is served here.
MEAN_TTL_S = 30
_means: dict[tuple[str, int], tuple[datetime, float]] = {}
UNKNOWN_VI = "Không xác định"
UNKNOWN_EN = "Unknown"


@dataclass(frozen=True)
class Throughput:
    open_counters: int
    mean_service_s: float


@dataclass(frozen=True)
class Eta:
    low: int | None
    high: int | None

    @property
    def known(self) -> bool:
        return self.low is not None

    # A range from 0 (nobody ahead) reads "under N minutes": "0–13 phút" reads as a mistake.
    def text(self) -> str:
        if not self.known:
            return UNKNOWN_VI
        return f"Dưới {self.high} phút" if self.low == 0 else f"Khoảng {self.low}–{self.high} phút"

    def text_en(self) -> str:
        if not self.known:
            return UNKNOWN_EN
        return f"Under {self.high} min" if self.low == 0 else f"About {self.low}–{self.high} min"

    def as_list(self) -> list[int] | None:
        return [self.low, self.high] if self.known else None


OPEN_COUNTERS = (  # bound by :service_id
    select(func.count())
    .select_from(CounterService.__table__.join(Counter.__table__, Counter.id == CounterService.counter_id))
    .where(CounterService.service_id == bindparam("service_id"), Counter.status == CounterStatus.open, Counter.active)
)


def throughput(session: Session, service: Service, now: datetime, open_counters: int | None = None) -> Throughput:
    """Open counters serving the field (counted here unless the caller counted them with
    OPEN_COUNTERS already) and the recent mean service time."""
    if open_counters is None:
        open_counters = session.connection().execute(OPEN_COUNTERS, {"service_id": service.id}).scalar()
    return Throughput(open_counters or 0, _mean_service_s(session, service, now))


def forget_mean(session: Session, service_id: int) -> None:
    _means.pop((str(session.get_bind().url), service_id), None)


def _mean_service_s(session: Session, service: Service, now: datetime) -> float:
    key = (str(session.get_bind().url), service.id)
    hit = _means.get(key)
    if hit is not None and abs((now - hit[0]).total_seconds()) < MEAN_TTL_S:
        return hit[1]
    recent = (
        select(TicketLeg.finished_at, TicketLeg.started_at)
        .where(
            # office and day lead ix_ticket_legs_report: a year of legs is not scanned for a week's.
            TicketLeg.office_id == service.office_id,
            TicketLeg.business_day >= (now - timedelta(days=RECENT_DAYS + 1)).date(),
            TicketLeg.service_id == service.id,
            TicketLeg.outcome == "served",
            TicketLeg.finished_at >= now - timedelta(days=RECENT_DAYS),
        )
        .order_by(TicketLeg.finished_at.desc())
        .limit(RECENT_LEGS)
    )
    durations = [(f - s).total_seconds() for f, s in session.execute(recent) if f and s]
    mean = sum(durations) / len(durations) if durations else service.service_minutes * 60
    mean = max(mean, 30.0)
    _means[key] = (now, mean)
    return mean


def eta(tp: Throughput, ahead: int) -> Eta:
    """Minutes until a citizen with `ahead` people before them is called, as a range."""
    if tp.open_counters == 0:
        return Eta(None, None)
    per_person = tp.mean_service_s / tp.open_counters
    low = math.floor(0.75 * ahead * per_person / 60)
    high = max(math.ceil(1.25 * (ahead + 1) * per_person / 60), low + 1)
    return Eta(low, high)
