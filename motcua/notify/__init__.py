"""Notifications to citizens: "near" and "called" for tickets, "booked" and "reminder" for
appointments, through an office's channels (SMS/Zalo gateways as webhooks, Web Push when that
channel registers itself).

- `outbox`: the `notifications` table; a message is a row before it is sent, never twice;
- `channels`: the Channel protocol, `register(name, factory)` for channels other than webhooks;
- `triggers`: which changes queue which messages; `sender`: delivering with retries;
- `webhook`: the gateway channel; `seal`: the phone kept encrypted while a gateway may need it;
- `appointments`: "booked" at booking, "reminder" before the slot (a job on the worker's tick).

Every serving process runs a worker thread (`start`): it turns the changes its own process
committed into outbox rows, and sends due rows (woken at once by a change, and every few seconds
for retries and rows other processes queued). `run_once` does one pass synchronously (tests, CLI).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from motcua.engine import clock
from motcua.engine.changes import Change
from motcua.models import Office, Ticket
from motcua.notify import appointments, outbox, sender, triggers
from motcua.notify.appointments import queue_for_appointment
from motcua.notify.channels import Channel, Drop, Retry, channels_for, needs_phone, register
from motcua.notify.outbox import Notification
from motcua.notify.seal import seal as seal_phone

__all__ = ["Channel", "Drop", "Notification", "Retry", "channels_for", "every_tick", "queue_for_appointment", "register", "run_once",
           "wake"]

log = logging.getLogger(__name__)
TICK_S = 5.0
SWEEP_EVERY = 6  # ticks: the sweep every 30 s


@dataclass
class NotifyState:
    """Per app: changes seen and not yet applied, the worker and its wake-up."""

    # Bounded: a process whose worker does not run (a CLI command) must not grow it; the sweep
    # makes up for anything that falls off.
    seen: deque = field(default_factory=lambda: deque(maxlen=10_000))
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    stopping: bool = False
    office_codes: dict[int, str] = field(default_factory=dict)


def _state(app: Flask) -> NotifyState:
    return app.extensions["motcua.notify"]


def init_app(app: Flask) -> None:
    from motcua.state import state

    sender.stale_checks.setdefault("a", appointments.stale)
    every_tick("appointment_reminders", appointments.remind_due)
    ns = app.extensions["motcua.notify"] = NotifyState()
    db = state(app).db

    if not enabled():
        return

    def on_changes(changes: list[Change]) -> None:
        seen = triggers.observe(changes)
        if seen and any(channels_for(app, _office_code(app, ns, s.office_id)) for s in seen):
            ns.seen.extend(seen)
            ns.wake.set()

    db.subscribe(on_changes)


def _office_code(app: Flask, ns: NotifyState, office_id: int) -> str:
    code = ns.office_codes.get(office_id)
    if code is None:
        from motcua.state import state

        with state(app).db.read() as s:
            code = ns.office_codes[office_id] = s.scalar(select(Office.code).where(Office.id == office_id)) or ""
    return code


def apply_seen(app: Flask, now: datetime | None = None, *, sweep: bool = False) -> int:
    """Turn the changes seen so far into outbox rows (and, with `sweep`, check every field)."""
    from motcua.state import state

    ns, now = _state(app), now or clock.now()
    batch = []
    while ns.seen:
        batch.append(ns.seen.popleft())
    if sweep and not batch and not any(channels_for(app, oc.code) for oc in state(app).config.offices):
        return 0  # no office has a channel: not even the write lock is taken
    if not batch and not sweep:
        return 0
    try:
        with state(app).db.write() as s:
            queued = triggers.apply(app, s, batch, now) if batch else 0
            if sweep:
                queued += triggers.sweep(app, s, now)
    except Exception:
        ns.seen.extendleft(reversed(batch))  # the next pass tries them again
        raise
    return queued


def run_once(app: Flask, now: datetime | None = None, *, sweep: bool = False) -> sender.Outcome:
    """Queue what the changes seen call for, then send what is due at `now`."""
    from motcua.state import state

    now = now or clock.now()
    apply_seen(app, now, sweep=sweep)
    return sender.send_due(app, state(app).db, now)


def wake(app: Flask) -> None:
    """Something was queued (an appointment booked): send it now rather than at the next tick."""
    ns = app.extensions.get("motcua.notify")
    if ns is not None:
        ns.wake.set()


Job = Callable[[Flask, datetime], None]
_jobs: dict[str, Job] = {}


def every_tick(name: str, job: Job) -> None:
    """Run `job(app, now)` on each tick of every process's worker, before sending: the place of
    jobs that queue messages by the clock (appointment reminders `reminder_minutes` before the
    slot). A job queues through the outbox, whose unique key makes every process's run harmless."""
    _jobs[name] = job


def _worker(app: Flask) -> None:
    ns, ticks = _state(app), 0
    while not ns.stopping:
        ns.wake.wait(TICK_S)
        ns.wake.clear()
        if ns.stopping:
            return
        ticks += 1
        for name, job in list(_jobs.items()):
            try:
                job(app, clock.now())
            except Exception:
                log.exception("notifications: job %s failed", name)
        try:
            out = run_once(app, sweep=ticks % SWEEP_EVERY == 0)
            if len(out.ids) == sender.BATCH:
                ns.wake.set()  # more are due
        except Exception:  # the database is away: the next tick tries again
            log.exception("notifications: pass failed")


def start(app: Flask) -> None:
    """Start this process's worker (serving processes only)."""
    ns = _state(app)
    if ns.thread is None:
        ns.stopping = False
        ns.thread = threading.Thread(target=_worker, args=(app,), name="motcua-notify", daemon=True)
        ns.thread.start()


def stop(app: Flask) -> None:
    ns = _state(app)
    ns.stopping = True
    ns.wake.set()
    ns.thread = None


def enabled() -> bool:
    return (os.environ.get("MOTCUA_NOTIFY") or "on").strip().lower() not in ("off", "0", "false", "no")


def phone_sealer(app: Flask) -> Callable[[str, str], str | None]:
    """For remote issuing: (office code, phone) → the sealed phone when the office has a gateway
    that sends to phones, else None (then nothing but the hash and the mask is kept)."""
    secret = app.config["SECRET_KEY"]

    def sealer(office_code: str, phone: str) -> str | None:
        return seal_phone(secret, phone) if needs_phone(app, office_code) else None

    return sealer


def forget_phones(session: Session, office_id: int, today: date) -> int:
    """Day end: no sealed phone outlives its business day, on tickets or on final outbox rows."""
    done = session.execute(update(Ticket).where(Ticket.office_id == office_id, Ticket.business_day < today,
                                                Ticket.phone_sealed.is_not(None))
                           .values(phone_sealed=None).execution_options(synchronize_session=False)).rowcount
    session.execute(update(Notification).where(Notification.office_id == office_id, Notification.status.in_(outbox.FINAL),
                                               Notification.phone_sealed.is_not(None))
                    .values(phone_sealed=None).execution_options(synchronize_session=False))
    return done
