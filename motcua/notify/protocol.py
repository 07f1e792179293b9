"""What a channel is (motcua.notify.channels builds an office's), and how a delivery fails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from motcua.notify.outbox import Notification


class Retry(Exception):
    """Delivery failed for now (the gateway is down, answered 5xx, timed out): try again later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Drop(Exception):
    """This message must not be sent (refused by the gateway, nobody to send it to)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Channel(Protocol):
    name: str  # unique in the office: the outbox's `channel`

    def wants(self, event: str) -> bool: ...

    def reachable(self, session: Session, ticket_ids: Sequence[int]) -> set[int]:
        """Which of these tickets this channel can reach (a phone, a subscription)."""
        ...

    def deliver(self, note: Notification, sealed: str | None) -> None:
        """Send one message. `sealed`: the citizen's phone as motcua.notify.seal keeps it (None:
        none kept); only a channel that sends to the phone opens it."""
        ...
