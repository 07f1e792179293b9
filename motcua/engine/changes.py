"""Changes that displays and other listeners must see.

Each change bumps the office's sequence number in the same transaction, so every listener can
order changes and notice a gap; the list is published only after the commit (see db.Database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from motcua.models import Office
from motcua.prepared import Prepared


@dataclass(frozen=True)
class Change:
    kind: str  # ticket.issued, ticket.called, ticket.recalled, ..., counter.updated, config.updated
    office_id: int
    seq: int
    data: dict[str, Any] = field(default_factory=dict)  # what every listener and socket of the office sees
    local: dict[str, Any] = field(default_factory=dict)  # for this process's own subscribers only (the spooler)


_offices = Office.__table__
_BUMP = Prepared(update(_offices).where(_offices.c.id == bindparam("office_id")).values(event_seq=_offices.c.event_seq + 1)
                 .returning(_offices.c.event_seq))


def record(session: Session, office_id: int, kind: str, data: dict[str, Any], local: dict[str, Any] | None = None) -> Change:
    # A prepared UPDATE on the session's connection: every change of every office runs it.
    seq = _BUMP.scalar(session.connection(), {"office_id": office_id})
    change = Change(kind, office_id, seq, data, local or {})
    session.info.setdefault("events", []).append(change)
    return change


def recorded(session: Session) -> list[Change]:
    """The changes recorded in this transaction so far, oldest first (published after its commit)."""
    return session.info.get("events", [])
