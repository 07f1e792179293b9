"""Web Push subscriptions: what a citizen's browser gave when they tapped "Báo cho tôi" on the
ticket's status page (motcua.notify.push sends to them).

A subscription lives no longer than its ticket: it is deleted in the same transaction as the
move that ends the ticket (done, no-show, cancelled, the day end's cancellations included), and
the day end clears any left from earlier days. The endpoint is the browser's address at its
vendor's push service and the keys only encrypt messages for it; nothing names the citizen.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from motcua.engine import changes
from motcua.models import Base, Ticket

# The moves after which a ticket is never called again.
ENDING_MOVES = frozenset({"ticket.finished", "ticket.no_show", "ticket.cancelled"})


class PushSubscription(Base):
    __tablename__ = "push_subscriptions"
    __table_args__ = (UniqueConstraint("ticket_id", "endpoint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))  # looked up through the unique index
    endpoint: Mapped[str] = mapped_column(String(2048))
    p256dh: Mapped[str] = mapped_column(String(128))  # the browser's public key (ECDH P-256), base64url
    auth: Mapped[str] = mapped_column(String(64))  # its authentication secret, base64url
    created_at: Mapped[datetime]


def for_ticket(session: Session, ticket_id: int) -> list[PushSubscription]:
    return list(session.scalars(select(PushSubscription).where(PushSubscription.ticket_id == ticket_id).order_by(PushSubscription.id)))


def forget_days_before(session: Session, office_id: int, today: date) -> int:
    """The day end: subscriptions of tickets of earlier business days (their tickets are over)."""
    old = select(Ticket.id).where(Ticket.office_id == office_id, Ticket.business_day < today)
    result = session.execute(delete(PushSubscription).where(PushSubscription.ticket_id.in_(old)).execution_options(synchronize_session=False))
    return result.rowcount or 0


@event.listens_for(Session, "before_commit")
def _forget_ended(session: Session) -> None:
    """Every write transaction that ended tickets deletes their subscriptions before it commits,
    so no process that dies in between leaves one behind."""
    ended = [c.data["ticket"]["id"] for c in changes.recorded(session) if c.kind in ENDING_MOVES and "ticket" in c.data]
    if ended:
        session.execute(delete(PushSubscription).where(PushSubscription.ticket_id.in_(ended)).execution_options(synchronize_session=False))
