"""Small helpers to drive the engine directly in tests (each call is one write transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from motcua.engine import counters, tickets
from motcua.models import Counter, Office, Ticket, User


class Driver:
    def __init__(self, db, office_code: str = "demo") -> None:
        self.db = db
        self.office_code = office_code

    def _office(self, s) -> Office:
        return s.scalar(select(Office).where(Office.code == self.office_code))

    def issue(self, service: str, *, now: datetime | None = None, **kwargs) -> Ticket:
        with self.db.write() as s:
            issued = tickets.issue_ticket(s, self._office(s).id, service, now=now, **kwargs)
            t = s.get(Ticket, issued.id)
            t.service, t.legs  # noqa: B018  load before the session closes
            return t

    def clerk(self, s, number: int) -> User:
        return s.scalar(select(User).where(User.username == f"{self.office_code}-clerk{number}"))

    def act(self, number: int, action: str, *args, now: datetime | None = None):
        """Run a counter action as that counter's clerk, opening the counter first if needed."""
        with self.db.write() as s:
            c = counters.find_counter(s, self._office(s), number)
            user = self.clerk(s, number)
            if action not in ("open_counter", "close_counter") and c.clerk_id is None:
                counters.open_counter(s, c, user, now)
            result = getattr(counters, action)(s, c, *args, user, now)
            if isinstance(result, Ticket):
                result.service, result.legs  # noqa: B018  likewise
            return result

    def next(self, number: int, now: datetime | None = None) -> Ticket | None:
        ticket_id = self.act(number, "call_next", now=now)
        return self.ticket(ticket_id) if ticket_id is not None else None

    def serve(self, number: int, now: datetime | None = None) -> Ticket | None:
        """Call the next ticket, start it and finish it."""
        t = self.next(number, now)
        if t is not None:
            self.act(number, "start", now=now)
            self.act(number, "finish", now=now)
        return t

    def counter(self, number: int) -> Counter:
        with self.db.read() as s:
            c = counters.find_counter(s, self._office(s), number)
            c.current_ticket  # noqa: B018  likewise
            return c

    def ticket(self, ticket_id: int) -> Ticket:
        with self.db.read() as s:
            t = s.get(Ticket, ticket_id)
            t.legs, t.service  # noqa: B018  likewise
            return t
