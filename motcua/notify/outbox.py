"""The outbox: every message to a citizen is a `notifications` row before it is sent.

A row names what it is about (`subject`: "t:<ticket id>" or "a:<appointment id>"), the channel
("webhook:1", "push"), the event ("near", "called", "booked", "reminder") and a key within the
event (the threshold of a "near": "5", "2"). Those four are unique, so queueing the same message
again, from this process or another, inserts nothing: the constraint is the "already queued"
answer. The body is what the channel sends, without the phone: a webhook channel reads the number
(sealed) from the ticket at send time, or from `phone_sealed` here for an appointment, cleared
once the row is final.

Status: pending → sending (claimed by one sender with a lease) → sent | pending again (a retry,
at `next_attempt_at`) | failed (gave up) | dropped (not to be sent: the ticket ended, no way to
reach the citizen, the gateway refused it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from motcua.models import Base

PENDING, SENDING, SENT, FAILED, DROPPED = "pending", "sending", "sent", "failed", "dropped"
FINAL = (SENT, FAILED, DROPPED)
STATUSES = (PENDING, SENDING, SENT, FAILED, DROPPED)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # Subject first: it also finds a ticket's or an appointment's messages (the reminder job).
        UniqueConstraint("subject", "event", "key", "channel"),
        Index("ix_notifications_due", "status", "next_attempt_at"),  # the sender's scan
        Index("ix_notifications_office_created", "office_id", "created_at"),  # the delivery log and report
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    subject: Mapped[str] = mapped_column(String(24))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # No foreign key yet: the appointments table lands separately.
    appointment_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(16), default="")
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    phone_mask: Mapped[str | None] = mapped_column(String(16))  # what the delivery log shows
    phone_sealed: Mapped[str | None] = mapped_column(String(200))  # appointments only; NULL once final
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


_table = Notification.__table__
_UNIQUE = ["subject", "event", "key", "channel"]


def ticket_subject(ticket_id: int) -> str:
    return f"t:{ticket_id}"


def appointment_subject(appointment_id: int) -> str:
    return f"a:{appointment_id}"


def queue(session: Session, *, office_id: int, channel: str, event: str, key: str = "", body: dict, now: datetime,
          ticket_id: int | None = None, appointment_id: int | None = None, phone_mask: str | None = None,
          phone_sealed: str | None = None) -> bool:
    """Queue one message in the session's transaction; False when it was queued before (by anyone)."""
    subject = ticket_subject(ticket_id) if ticket_id is not None else appointment_subject(appointment_id)
    values = dict(office_id=office_id, subject=subject, ticket_id=ticket_id, appointment_id=appointment_id, channel=channel,
                  event=event, key=key, body=body, phone_mask=phone_mask, phone_sealed=phone_sealed, status=PENDING,
                  attempts=0, next_attempt_at=now, created_at=now)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # ON CONFLICT DO NOTHING: a duplicate leaves the transaction usable (a failed INSERT would not, on PostgreSQL).
    # RETURNING tells whether a row went in: rowcount is not reliable for it on every driver.
    stmt = insert(_table).values(**values).on_conflict_do_nothing(index_elements=_UNIQUE).returning(_table.c.id)
    return session.execute(stmt).scalar() is not None
