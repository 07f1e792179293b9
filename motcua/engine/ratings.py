"""Citizen satisfaction ratings, given on the rating pad of the counter that served the ticket.

Orientation: `score` is the 1-based position in `office.settings["rating_scale"]`, which lists
the levels best first, so 1 is the BEST level ("Rất hài lòng") and `len(scale)` the worst. The
last `rating_low_count` levels are "low": they need a reason, which managers read to improve.

A rating is accepted only
- from a rating pad tied to the counter whose leg finished the ticket as served (a transferred
  ticket is rated at the counter that served it last, never at the one that passed it on),
- after "finish", within `rating_seconds` (+ a grace for slow taps and network) of finished_at,
- once per ticket (the table's unique constraint settles races on PostgreSQL too).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from motcua.engine import changes, clock
from motcua.engine.errors import QueueError, conflict
from motcua.engine.views import iso
from motcua.models import Counter, Device, DeviceKind, Office, Rating, Service, Ticket, TicketLeg, TicketStatus

DEFAULT_SCALE = ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"]
DEFAULT_SCALE_EN = ["Very satisfied", "Satisfied", "Neutral", "Dissatisfied"]
DEFAULT_SECONDS = 30
# The pad's countdown starts when the rating request reaches it, a little after finished_at.
GRACE_SECONDS = 10
REASON_MAX = 500
# A pad that catches up inside the grace still gets a few seconds to tap.
MIN_SECONDS_SHOWN = 5


def scale(office: Office) -> tuple[list[str], list[str]]:
    """The office's levels, best first, in Vietnamese and English."""
    vi = list(office.settings.get("rating_scale") or DEFAULT_SCALE)
    en = list(office.settings.get("rating_scale_en") or [])
    if len(en) != len(vi):
        en = DEFAULT_SCALE_EN if len(vi) == len(DEFAULT_SCALE_EN) else vi
    return vi, en


def low_count(office: Office) -> int:
    return int(office.settings.get("rating_low_count", 1))


def window_seconds(office: Office) -> int:
    return int(office.settings.get("rating_seconds", DEFAULT_SECONDS))


def is_low(office: Office, score: int) -> bool:
    n = len(scale(office)[0])
    return score > n - low_count(office)


def open_until(office: Office, finished_at: datetime) -> datetime:
    """The last moment a rating for a ticket finished at `finished_at` is accepted."""
    return finished_at + timedelta(seconds=window_seconds(office) + GRACE_SECONDS)


def rate(session: Session, ticket: Ticket, score: int, reason: str | None, *, device: Device, now: datetime | None = None) -> Rating:
    """Store the citizen's rating of the service that just finished; raises QueueError otherwise."""
    now = now or clock.now()
    if device.kind != DeviceKind.rating or device.revoked_at is not None:
        raise QueueError("forbidden", "Chỉ máy đánh giá tại quầy mới được gửi đánh giá.", "Only a counter's rating pad may rate.", status=403)
    if device.counter_id is None:
        raise QueueError(
            "pad_without_counter", "Máy đánh giá này chưa được gắn với quầy nào.", "This rating pad is not tied to a counter.", status=409
        )
    if ticket.office_id != device.office_id:
        raise QueueError("unknown_ticket", "Không tìm thấy phiếu.", "Ticket not found.", status=404)
    office = session.get(Office, ticket.office_id)
    leg = ticket.leg
    if ticket.status != TicketStatus.done or leg.outcome != "served" or leg.finished_at is None:
        raise conflict(
            "not_finished",
            f"Phiếu {ticket.code} chưa được phục vụ xong, chưa thể đánh giá.",
            f"Ticket {ticket.code} has not been served to the end yet: it cannot be rated.",
        )
    if leg.counter_id != device.counter_id:
        raise QueueError(
            "wrong_counter",
            f"Phiếu {ticket.code} không được phục vụ tại quầy của máy đánh giá này.",
            f"Ticket {ticket.code} was not served at this pad's counter.",
            status=403,
        )
    if session.scalar(select(Rating.id).where(Rating.ticket_id == ticket.id)) is not None:
        raise _already(ticket)
    if now > open_until(office, leg.finished_at):
        raise conflict(
            "rating_expired",
            f"Đã hết thời gian đánh giá phiếu {ticket.code}.",
            f"The time to rate ticket {ticket.code} is over.",
        )
    levels = scale(office)[0]
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= len(levels):
        raise QueueError(
            "bad_score",
            f"Mức đánh giá phải từ 1 (tốt nhất) đến {len(levels)}.",
            f"The score must be from 1 (best) to {len(levels)}.",
            status=422,
        )
    reason = (reason or "").strip()[:REASON_MAX] or None
    if reason is None and is_low(office, score):
        raise QueueError(
            "reason_required",
            "Xin cho biết lý do chưa hài lòng.",
            "Please tell us why you are not satisfied.",
            status=422,
        )
    r = Rating(
        ticket_id=ticket.id,
        office_id=ticket.office_id,
        leg_id=leg.id,
        service_id=leg.service_id,
        counter_id=leg.counter_id,
        clerk_id=leg.clerk_id,
        score=score,
        scale=len(levels),
        reason=reason,
        business_day=leg.business_day,
        created_at=now,
    )
    try:
        with session.begin_nested():  # a concurrent duplicate fails here, not at commit
            session.add(r)
    except IntegrityError:
        raise _already(ticket) from None
    changes.record(session, ticket.office_id, "rating.created", {"rating": rating_view(session, r, office, ticket)})
    return r


def _already(ticket: Ticket) -> QueueError:
    return conflict("already_rated", f"Phiếu {ticket.code} đã được đánh giá.", f"Ticket {ticket.code} has already been rated.")


def rating_view(session: Session, r: Rating, office: Office | None = None, ticket: Ticket | None = None) -> dict:
    """A rating as the API answers it and listeners see it. The reason is left out on purpose:
    changes also reach citizens' phones, and a complaint is for managers' reports only."""
    office = office or session.get(Office, r.office_id)
    ticket = ticket or session.get(Ticket, r.ticket_id)
    counter = session.get(Counter, r.counter_id) if r.counter_id else None
    vi, en = scale(office)
    return {
        "id": r.id,
        "ticket": ticket.code,
        "score": r.score,
        "scale": r.scale,
        "label": vi[r.score - 1] if r.score <= len(vi) else None,
        "label_en": en[r.score - 1] if r.score <= len(en) else None,
        "low": is_low(office, r.score),
        "has_reason": bool(r.reason),
        "counter": counter.number if counter else None,
        "service": session.get(Service, r.service_id).code,
        "business_day": r.business_day.isoformat(),
        "created_at": iso(r.created_at),
    }


def pending(session: Session, device: Device, now: datetime | None = None) -> tuple[Ticket, int] | None:
    """The ticket this pad may still rate (served last at its counter, unrated, window open) and
    the seconds left to show; lets a pad that reloaded or reconnected after "finish" still ask."""
    if device.counter_id is None:
        return None
    now = now or clock.now()

    leg = session.scalar(
        select(TicketLeg)
        .where(TicketLeg.counter_id == device.counter_id, TicketLeg.outcome == "served", TicketLeg.finished_at.is_not(None))
        .order_by(TicketLeg.finished_at.desc(), TicketLeg.id.desc())
        .limit(1)
    )
    if leg is None:
        return None
    ticket = leg.ticket
    office = session.get(Office, ticket.office_id)
    until = open_until(office, leg.finished_at)
    # Only the ticket's last leg can be rated (a later transfer would have reopened it).
    if now > until or ticket.leg.id != leg.id or ticket.status != TicketStatus.done:
        return None
    if session.scalar(select(Rating.id).where(Rating.ticket_id == ticket.id)) is not None:
        return None
    left = window_seconds(office) - (now - leg.finished_at).total_seconds()
    return ticket, int(max(left, min(MIN_SECONDS_SHOWN, (until - now).total_seconds())))
