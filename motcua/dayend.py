"""Day end: close what the day left open, in exactly one process.

A few minutes after each office's local midnight, tickets of earlier business days still
waiting, called or being served are cancelled with the reason "day_end" through the engine
(so the log, the reports and the displays see it like any cancellation; nothing is deleted),
and the office's counters are closed, unless its working hours include that moment (an office
that works through midnight keeps its counters).

Every serving process runs the same scheduler (APScheduler, every five minutes, and once
shortly after start so a server that was down at midnight catches up). The run for an (office,
day) is claimed by inserting its `day_end_runs` row, whose unique constraint lets exactly one
process win, in the same transaction as the cancellations: a process that dies half-way
rolls its claim back with its work, and the next tick does the whole day end again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import Database
from motcua.engine import clock
from motcua.models import OPEN_STATUSES, Base, Counter, CounterStatus, Office, Ticket

log = logging.getLogger(__name__)

REASON = "day_end"
CRON_MINUTES = "2-59/5"  # 00:02, 00:07, ... local midnight + a few minutes, in any time zone
STARTUP_DELAY_S = 15


class DayEndRun(Base):
    """One row per office and business day whose day end ran: the claim and its record."""

    __tablename__ = "day_end_runs"
    __table_args__ = (UniqueConstraint("office_id", "business_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    # The day that began: tickets of days before it were closed.
    business_day: Mapped[date] = mapped_column(Date)
    ran_at: Mapped[datetime]
    tickets_closed: Mapped[int] = mapped_column(Integer, default=0)
    counters_closed: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(100), default="")


@dataclass(frozen=True)
class DayEndResult:
    office: str
    business_day: date
    tickets_closed: int
    counters_closed: int


@dataclass
class DayEndState:
    """Per app: the scheduler (when started) and what this process's runs did."""

    scheduler: object | None = None
    history: list[list[DayEndResult]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def at_work(office: Office, moment: datetime) -> bool:
    """Whether the office's working hours include this moment (then its counters stay open)."""
    from motcua.config import parse_span

    here = clock.local(moment, office.timezone)
    spans = clock.spans_for((office.settings or {}).get("working_hours"), here.date()) or []
    return any(start <= here.time() <= end for start, end in map(parse_span, spans))


def close_day(db: Database, office_id: int, now: datetime | None = None) -> DayEndResult | None:
    """Close what earlier business days left open; None when another process already did
    (or does right now) this office's day end for today."""
    now = now or clock.now()
    with db.read() as s:
        office = s.get(Office, office_id)
        today = clock.business_day(now, office.timezone)
        if s.scalar(select(DayEndRun.id).where(DayEndRun.office_id == office_id, DayEndRun.business_day == today)):
            return None
    try:
        with db.write() as s:
            run = DayEndRun(office_id=office_id, business_day=today, ran_at=now, worker=worker_name())
            s.add(run)
            s.flush()  # the claim: a second process's INSERT waits, then fails on the unique constraint
            result = _close(s, s.get(Office, office_id), today, now)
            run.tickets_closed, run.counters_closed = result.tickets_closed, result.counters_closed
    except IntegrityError:
        return None
    if result.tickets_closed or result.counters_closed:
        log.info("day end %s %s: %d tickets cancelled, %d counters closed", result.office, today, result.tickets_closed, result.counters_closed)
    return result


def _close(s, office: Office, today: date, now: datetime) -> DayEndResult:
    from motcua.engine.counters import close_counter
    from motcua.engine.tickets import cancel_ticket

    stale = s.scalars(
        select(Ticket)
        .where(Ticket.office_id == office.id, Ticket.business_day < today, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.business_day, Ticket.id)
    ).all()
    for t in stale:
        cancel_ticket(s, t, reason=REASON, now=now)
    closed = 0
    for c in s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number)):
        c.priority_streak = 0  # the priority ratio starts afresh each day
        if c.status != CounterStatus.closed and c.current_ticket_id is None and not at_work(office, now):
            close_counter(s, c, None, now)
            closed += 1
    from motcua.engine.citizens import forget_citizens

    forgotten = forget_citizens(s, office, today)  # Decree 13/2023: kept no longer than personal_data_days
    from motcua.notify import forget_phones
    from motcua.notify.subscriptions import forget_days_before

    forget_phones(s, office.id, today)  # a gateway's copy of the phone lives one business day at most
    forget_days_before(s, office.id, today)  # a browser's push address lives no longer than its ticket
    if forgotten:
        log.info("day end %s %s: citizen references of %d tickets cleared", office.code, today, forgotten)
    from motcua.booking.closing import close_appointments

    absent, names = close_appointments(s, office, today)
    if absent or names:
        log.info("day end %s %s: %d appointments never came, %d booked names cleared", office.code, today, absent, names)
    return DayEndResult(office.code, today, len(stale), closed)


def run_due(app: Flask, now: datetime | None = None) -> list[DayEndResult]:
    """One scheduler tick: every office whose day end for today has not run yet."""
    st = app.extensions["motcua"]
    results = []
    with st.db.read() as s:
        office_ids = list(s.scalars(select(Office.id).order_by(Office.id)))
    for office_id in office_ids:
        try:
            result = close_day(st.db, office_id, now)
        except Exception:
            log.exception("day end failed for office %s", office_id)
            continue
        if result is not None:
            results.append(result)
    state = app.extensions["motcua.dayend"]
    with state.lock:
        state.history = [*state.history[-47:], results]
    return results


def expire_check_ins(app: Flask, now: datetime | None = None) -> int:
    """A day-time tick (every minute): cancel the remote numbers whose check-in grace ran out
    (engine.check_in); an office at a time, so one office's failure leaves the others' work done."""
    from motcua.engine import check_in

    st = app.extensions["motcua"]
    now = now or clock.now()
    with st.db.read() as s:
        office_ids = [o.id for o in s.scalars(select(Office).order_by(Office.id)) if (o.settings or {}).get("remote_check_in")]
    expired = 0
    for office_id in office_ids:
        try:
            with st.db.write() as s:
                n = check_in.expire_due(s, s.get(Office, office_id), now)
        except Exception:  # the next tick retries
            log.exception("check-in expiry failed for office %s", office_id)
            continue
        if n:
            log.info("office %s: %d remote numbers expired unchecked", office_id, n)
        expired += n
    return expired


def start(app: Flask, *, first_run: datetime | None = None, now: datetime | None = None):
    """Start this process's scheduler (serving processes only, not CLI commands); `now` pins
    the clock the job sees (tests)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    state: DayEndState = app.extensions["motcua.dayend"]
    if state.scheduler is not None:
        return state.scheduler
    scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
    first = first_run or datetime.now(clock.zone("UTC")) + timedelta(seconds=STARTUP_DELAY_S)
    scheduler.add_job(run_due, CronTrigger(minute=CRON_MINUTES, timezone="UTC"), args=[app, now], id="day_end",
                      next_run_time=first, coalesce=True, max_instances=1, misfire_grace_time=240)
    # Two processes expiring the same ticket: the state machine's compare-and-set refuses the
    # second, whose transaction rolls back; its next tick finds nothing left to do.
    scheduler.add_job(expire_check_ins, CronTrigger(minute="*", timezone="UTC"), args=[app, now], id="check_in_expiry",
                      coalesce=True, max_instances=1, misfire_grace_time=50)
    scheduler.start()
    state.scheduler = scheduler
    return scheduler


def stop(app: Flask) -> None:
    state: DayEndState = app.extensions["motcua.dayend"]
    if state.scheduler is not None:
        state.scheduler.shutdown(wait=False)
        state.scheduler = None


def enabled() -> bool:
    return (os.environ.get("MOTCUA_DAYEND") or "on").strip().lower() not in ("off", "0", "false", "no")


def init_app(app: Flask) -> None:
    app.extensions["motcua.dayend"] = DayEndState()
