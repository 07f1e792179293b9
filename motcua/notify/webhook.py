"""The webhook channel: an office's SMS or Zalo ZNS gateway (`[[offices.notifiers]]`, kind "webhook").

Each message is a POST of JSON

    {"event": "near", "office": "demo", "ticket": {"code": "A012", "service": "Hộ tịch", "counter": 3},
     "phone": "0912345678", "ahead": 2, "at": "2026-12-06T02:15:00+00:00"}

("counter" only once called, "ahead" only for "near"), with the headers
`X-Motcua-Signature: sha256=<hex HMAC-SHA256 of the raw body with the notifier's secret>` and
`X-Motcua-Delivery: <notification id>` (the same on every retry, so a gateway de-duplicates).
A 2xx answer is sent; 408, 429, 5xx, a timeout or a refused connection are retried; any other
4xx means the gateway will never take it (dropped). The phone goes only into the body: errors and
logs never carry it. motcua.gateways.example is a gateway to copy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.config import NotifierConfig
from motcua.models import Ticket
from motcua.notify.outbox import Notification
from motcua.notify.protocol import Drop, Retry
from motcua.notify.seal import unseal

TIMEOUT_S = 5.0
RETRY_STATUSES = (408, 429)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(note: Notification, phone: str) -> bytes:
    """The body, in the documented order: the phone sits between the ticket and `ahead`."""
    b = note.body
    out = {"event": note.event, "office": b.get("office"), "ticket": b.get("ticket"), "phone": phone}
    if b.get("ahead") is not None:
        out["ahead"] = b["ahead"]
    out["at"] = b.get("at")
    for key, value in b.items():  # what an appointment's body adds (its slot)
        out.setdefault(key, value)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookChannel:
    needs_phone = True

    def __init__(self, name: str, config: NotifierConfig, instance_secret: str, timeout: float = TIMEOUT_S) -> None:
        self.name = name
        self.url = config.url
        self.events = frozenset(config.events)
        self._secret = config.secret
        self._instance_secret = instance_secret
        self.timeout = timeout

    def wants(self, event: str) -> bool:
        return event in self.events

    def reachable(self, session: Session, ticket_ids: Sequence[int]) -> set[int]:
        if not ticket_ids:
            return set()
        return set(session.scalars(select(Ticket.id).where(Ticket.id.in_(ticket_ids), Ticket.phone_sealed.is_not(None))))

    def deliver(self, note: Notification, sealed: str | None) -> None:
        if sealed is None:
            raise Drop("no phone")
        phone = unseal(self._instance_secret, sealed)
        if phone is None:
            raise Drop("phone sealed under another instance secret")
        self.post(payload(note, phone), note.id)

    def post(self, body: bytes, delivery_id: int) -> None:
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "motcua-notify",
            "X-Motcua-Signature": signature(self._secret, body), "X-Motcua-Delivery": str(delivery_id)})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # the office config (manager-trusted) names it
                resp.read(1024)
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code in RETRY_STATUSES:
                raise Retry(f"HTTP {exc.code}") from None
            raise Drop(f"HTTP {exc.code}") from None
        except OSError as exc:  # URLError, timeouts and refused connections are all OSErrors
            reason = getattr(exc, "reason", exc)
            raise Retry(f"{type(reason).__name__}: {reason}"[:200]) from None
