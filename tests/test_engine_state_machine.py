"""Hypothesis drives random sequences of issue, call, recall, start, finish, no-show, transfer,
cancel, pause and resume across counters, and checks after every step that no ticket is in two
places at once and every count adds up, the kept waiting tallies too."""

from __future__ import annotations

from collections import Counter as Tally
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select

from motcua.engine.errors import QueueError
from motcua.models import Counter, CounterStatus, Ticket, TicketEvent, TicketLeg, TicketStatus, WaitingCount
from tests.support.engine import Driver

FIELDS = ("HT", "CT", "DD", "KD", "XH")
START = datetime(2026, 11, 23, 8, 0, tzinfo=timezone(timedelta(hours=7)))


def test_queue_state_machine(make_app) -> None:
    class QueueMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self) -> None:
            app, _ = make_app()
            self.db = app.extensions["motcua"].db
            self.d = Driver(self.db)
            self.minute = 0.0
            self.issued = 0

        def now(self) -> datetime:
            self.minute += 0.5
            return START + timedelta(minutes=self.minute)

        def attempt(self, counter: int, action: str, *args) -> None:
            try:
                self.d.act(counter, action, *args, now=self.now())
            except QueueError:
                pass  # refused transitions must leave the state untouched; the invariants check that

        @rule(field=st.sampled_from(FIELDS), priority=st.sampled_from([None, None, "elderly"]))
        def issue(self, field: str, priority: str | None) -> None:
            self.d.issue(field, priority=priority, now=self.now())
            self.issued += 1

        @rule(counter=st.integers(1, 4))
        def call_next(self, counter: int) -> None:
            self.attempt(counter, "call_next")

        @rule(counter=st.integers(1, 4), action=st.sampled_from(["recall", "start", "finish", "no_show", "resume"]))
        def act(self, counter: int, action: str) -> None:
            self.attempt(counter, action)

        @rule(counter=st.integers(1, 4), field=st.sampled_from(FIELDS), position=st.sampled_from(["front", "back"]))
        def transfer(self, counter: int, field: str, position: str) -> None:
            self.attempt(counter, "transfer", field, position)

        @rule(counter=st.integers(1, 4))
        def pause(self, counter: int) -> None:
            self.attempt(counter, "pause", "Nghỉ giải lao")

        @rule(data=st.data())
        def cancel(self, data) -> None:
            from motcua.engine import tickets

            with self.db.read() as s:
                ids = s.scalars(select(Ticket.id).where(Ticket.status.in_([TicketStatus.waiting, TicketStatus.called]))).all()
            if not ids:
                return
            tid = data.draw(st.sampled_from(sorted(ids)))
            with self.db.write() as s:
                tickets.cancel_ticket(s, s.get(Ticket, tid), reason="citizen", now=self.now())

        @invariant()
        def consistent(self) -> None:
            if not hasattr(self, "db"):
                return
            with self.db.read() as s:
                all_tickets = s.scalars(select(Ticket)).all()
                assert len(all_tickets) == self.issued
                counters = s.scalars(select(Counter)).all()
                # A ticket is at most at one counter, and a counter holds only a called/serving ticket of its own.
                held = [c.current_ticket_id for c in counters if c.current_ticket_id is not None]
                assert len(held) == len(set(held))
                for c in counters:
                    if c.current_ticket_id is not None:
                        t = s.get(Ticket, c.current_ticket_id)
                        assert t.status in (TicketStatus.called, TicketStatus.serving) and t.counter_id == c.id
                    if c.status == CounterStatus.closed:
                        assert c.current_ticket_id is None
                for t in all_tickets:
                    holders = [c.number for c in counters if c.current_ticket_id == t.id]
                    if t.status in (TicketStatus.called, TicketStatus.serving):
                        assert len(holders) == 1  # called or serving: exactly one counter
                    else:
                        assert holders == []  # waiting or closed: nowhere
                    legs = s.scalars(select(TicketLeg).where(TicketLeg.ticket_id == t.id).order_by(TicketLeg.seq)).all()
                    assert [leg.seq for leg in legs] == list(range(1, len(legs) + 1))
                    assert all(leg.outcome == "transferred" for leg in legs[:-1])
                    open_leg = legs[-1]
                    assert (open_leg.outcome is None) == (t.status in (TicketStatus.waiting, TicketStatus.called, TicketStatus.serving))
                    assert open_leg.service_id == t.service_id
                    # The log replays to the current status.
                    kinds = s.scalars(select(TicketEvent.to_status).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)).all()
                    assert kinds[0] == "waiting" and kinds[-1] == t.status.value
                # Counts add up per status, and numbers are gap-free per series.
                by_status = Tally(t.status for t in all_tickets)
                assert sum(by_status.values()) == self.issued
                for series in {t.series_id for t in all_tickets}:
                    numbers = sorted(t.number for t in all_tickets if t.series_id == series)
                    assert numbers == list(range(1, len(numbers) + 1))
                assert s.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "issued")) == self.issued
                # The waiting tallies the triggers keep match the queues.
                waiting = Tally((t.service_id, t.business_day) for t in all_tickets if t.status == TicketStatus.waiting)
                priority = Tally((t.service_id, t.business_day) for t in all_tickets
                                 if t.status == TicketStatus.waiting and t.priority_group_id is not None)
                for row in s.scalars(select(WaitingCount)):
                    key = (row.service_id, row.business_day)
                    assert (row.waiting, row.priority) == (waiting.pop(key, 0), priority[key])
                assert not waiting  # every queue has its row

    QueueMachine.TestCase.settings = settings(
        max_examples=25, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    QueueMachine.TestCase().runTest()
