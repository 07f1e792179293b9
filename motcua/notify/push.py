"""Web Push to the ticket's status page: the citizen taps "Báo cho tôi" and their browser's push
service wakes the page's service worker with "Còn 2 người trước bạn" or "Mời bạn đến quầy số 3",
even with the page closed.

- VAPID: the server's key pair is made on first use in the instance folder (`vapid/private.pem`,
  0600); browsers subscribe with its public key (`application_server_key`), and every message is
  signed with it, so only this server can push to those subscriptions.
- The endpoint a browser gives is an address to POST to, chosen by whoever holds the ticket: an
  SSRF vector. Only origins in `[server] push_services` (the vendors' push services by default)
  are accepted, when subscribing and again when sending; redirects are never followed.
- `deliver` encrypts (aes128gcm, RFC 8291) and sends one message; 404/410 (the browser
  unsubscribed) delete the subscription and raise `Drop`; 429, 5xx and network errors raise
  `Retry`, so the sender tries again later.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.db import Database
from motcua.engine.errors import QueueError
from motcua.models import Ticket
from motcua.notify.channels import register
from motcua.notify.protocol import Drop, Retry
from motcua.notify.subscriptions import PushSubscription, for_ticket

log = logging.getLogger(__name__)

EVENTS = ("near", "called")
# How long a push service keeps a message for a phone that is offline: past it the news is stale.
TTL_S = {"near": 900, "called": 600}
TIMEOUT_S = (3.05, 5)  # connect, read
MAX_PER_TICKET = 5  # a phone and a tablet, re-subscriptions: more is someone playing with the id


def bad_subscription(message: str, message_en: str) -> QueueError:
    return QueueError("bad_subscription", message, message_en, status=422)


# ---- VAPID keys ------------------------------------------------------------------------


def vapid_key(instance: Path) -> Vapid:
    """The server's VAPID key, created on first use. Written to a temporary file and linked into
    place, so processes starting together end up with the same key, never a half-written one."""
    folder = Path(instance) / "vapid"
    path = folder / "private.pem"
    if not path.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".private-")  # mode 0600
        try:
            os.write(fd, pem)
            os.fsync(fd)
            os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process was first: use its key
        finally:
            os.unlink(tmp)
    return Vapid.from_file(str(path))


def application_server_key(key: Vapid) -> str:
    """The public key as browsers take it in `pushManager.subscribe`: the uncompressed P-256
    point, base64url without padding."""
    raw = key.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(raw)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- which endpoints -------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str  # "*.example.com" for any subdomain of example.com
    port: int

    @classmethod
    def parse(cls, text: str) -> Origin | None:
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            return None
        host = parts.hostname
        if not all(ch.isalnum() or ch in ".-:*" for ch in host):  # no percent-encoding, no backslash tricks
            return None
        return cls(parts.scheme, host, port or (443 if parts.scheme == "https" else 80))

    def admits(self, other: Origin) -> bool:
        if (self.scheme, self.port) != (other.scheme, other.port):
            return False
        if self.host.startswith("*."):
            return other.host.endswith(self.host[1:]) and len(other.host) > len(self.host) - 1
        return self.host == other.host


def check_endpoint(endpoint: str, services: list[str]) -> None:
    """Refuse an endpoint outside the allow-list (422 bad_subscription)."""
    if len(endpoint) > 2048 or any(ord(ch) <= 32 or ord(ch) == 127 for ch in endpoint):
        raise bad_subscription("Địa chỉ nhận thông báo không hợp lệ.", "The push endpoint is not a valid address.")
    origin = Origin.parse(endpoint)
    allowed = [o for o in map(Origin.parse, services) if o is not None]
    if origin is None or not any(a.admits(origin) for a in allowed):
        raise bad_subscription("Dịch vụ thông báo của trình duyệt này không được chấp nhận.",
                               "This browser's push service is not one this server sends to.")


def check_keys(p256dh: str, auth: str) -> None:
    """The browser's ECDH public key (an uncompressed P-256 point) and its 16-byte auth secret."""
    try:
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        point, secret = b"", b""
    if len(point) != 65 or len(secret) != 16:
        raise bad_subscription("Khóa mã hóa của trình duyệt không hợp lệ.", "The browser's encryption keys are not valid.")


# ---- messages --------------------------------------------------------------------------


def payload(event: str, code: str, public_id: str, *, counter: int | None = None, ahead: int | None = None) -> dict:
    """What the service worker shows: {event, code, counter?, ahead?, text_vi, text_en, url}."""
    body: dict[str, Any] = {"event": event, "code": code}
    if event == "called":
        body["counter"] = counter
        if counter is not None:
            vi, en = f"Mời bạn đến quầy số {counter}", f"Please go to counter {counter}"
        else:
            vi, en = f"Đã đến lượt bạn (số {code})", f"It is your turn (number {code})"
    else:
        body["ahead"] = ahead
        if not ahead:
            vi, en = f"Bạn là người tiếp theo (số {code})", f"You are next (number {code})"
        else:
            people = "1 person" if ahead == 1 else f"{ahead} people"
            vi, en = f"Còn {ahead} người trước bạn (số {code})", f"{people} ahead of you (number {code})"
    body.update(text_vi=vi, text_en=en, url=f"/t/{public_id}")
    return body


class _NoRedirects(requests.Session):
    """An allowed push service that answers with a redirect must not lead the server elsewhere."""

    def post(self, url, data=None, json=None, **kwargs):
        kwargs["allow_redirects"] = False
        return super().post(url, data=data, json=json, **kwargs)


class Pusher:
    """One per app: the VAPID key, the allow-list and a connection pool to the push services."""

    def __init__(self, db: Database, instance: Path, services: list[str], contact: str) -> None:
        self.db = db
        self.key = vapid_key(instance)
        self.public_key = application_server_key(self.key)
        self.services = services
        self.contact = contact
        self.http = _NoRedirects()

    def deliver(self, subscription: PushSubscription, message: dict) -> None:
        """Encrypt and send one message; returns when the push service took it (2xx)."""
        check_endpoint(subscription.endpoint, self.services)  # the list may have shrunk since it was stored
        event = message.get("event", "near")
        headers = {"Urgency": "high" if event == "called" else "normal",
                   "Topic": f"ticket{subscription.ticket_id}"}  # a newer message replaces one not yet delivered
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        try:
            resp = webpush(info, json.dumps(message, ensure_ascii=False), vapid_private_key=self.key, vapid_claims={"sub": self.contact},
                           ttl=TTL_S.get(event, 900), headers=headers, timeout=TIMEOUT_S, requests_session=self.http)
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            self._failed(subscription, status)
        except requests.RequestException as exc:
            raise Retry(f"push service unreachable: {type(exc).__name__}") from None
        else:
            if not 200 <= resp.status_code < 300:  # a redirect
                raise Drop(f"push service answered {resp.status_code}")

    def _failed(self, subscription: PushSubscription, status: int | None) -> None:
        if status in (404, 410):  # the browser unsubscribed, or the subscription expired
            self.forget(subscription.id)
            raise Drop(f"subscription gone ({status})")
        if status is None or status == 429 or status >= 500:
            raise Retry(f"push service answered {status}")
        raise Drop(f"push service refused the message ({status})")

    def forget(self, subscription_id: int) -> None:
        with self.db.write() as s:
            row = s.get(PushSubscription, subscription_id)
            if row is not None:
                s.delete(row)

    def deliver_to_ticket(self, ticket_id: int, message: dict) -> int:
        """Send to every browser subscribed to the ticket; how many took it. Retry when none did
        and one may later; Drop when none is left."""
        with self.db.read() as s:
            subscriptions = for_ticket(s, ticket_id)
        sent, retry = 0, None
        for sub in subscriptions:
            try:
                self.deliver(sub, message)
                sent += 1
            except Retry as exc:
                retry = exc
            except (Drop, QueueError) as exc:
                log.info("push to ticket %s: %s", ticket_id, exc)
        if not sent and retry is not None:
            raise retry
        if not sent:
            raise Drop("no subscription took the message")
        return sent


class PushChannel:
    """The "push" notification channel: the outbox's "near" and "called" of a ticket, to the
    browsers subscribed to it. It reaches only tickets with a subscription, and never needs the
    phone. The Pusher (and with it the VAPID key file) is made only when a message goes out."""

    name = "push"
    needs_phone = False

    def __init__(self, app: Flask) -> None:
        self.app = app

    def wants(self, event: str) -> bool:
        return event in EVENTS

    def reachable(self, session: Session, ticket_ids: Sequence[int]) -> set[int]:
        if not ticket_ids:
            return set()
        return set(session.scalars(select(PushSubscription.ticket_id).where(PushSubscription.ticket_id.in_(list(ticket_ids))).distinct()))

    def deliver(self, note: Any, sealed: str | None = None) -> None:
        """`note`: an outbox row, whose body is {office, ticket: {code, service, counter?}, ahead?, at}."""
        pusher_ = pusher(self.app)
        with pusher_.db.read() as s:
            public_id = s.scalar(select(Ticket.public_id).where(Ticket.id == note.ticket_id))
        if public_id is None:
            raise Drop("ticket gone")
        ticket = note.body.get("ticket") or {}
        message = payload(note.event, ticket.get("code", ""), public_id, counter=ticket.get("counter"), ahead=note.body.get("ahead"))
        pusher_.deliver_to_ticket(note.ticket_id, message)


def contact_of(settings: dict, configured: str | None) -> str:
    if configured:
        return configured
    public_url = settings.get("public_url")
    if public_url and public_url.startswith("https://"):
        return public_url
    return "mailto:motcua@localhost"


def enabled(app: Flask) -> bool:
    """An empty `push_services` turns Web Push off: no button, no channel, nothing queued for it."""
    from motcua.state import state

    return bool(state(app).config.server.push_services)


def init_app(app: Flask) -> None:
    """Every office gets the push channel: any ticket's holder may subscribe on its status page."""
    register("push", lambda app_, office_code: PushChannel(app_) if enabled(app_) else None)


def pusher(app: Flask) -> Pusher:
    """The app's Pusher, made on first use (the key file is written then, never by CLI commands)."""
    from motcua.state import state

    existing = app.extensions.get("motcua.push")
    if existing is None:
        st = state(app)
        existing = app.extensions["motcua.push"] = Pusher(st.db, st.instance, st.config.server.push_services,
                                                          contact_of(st.settings, st.config.server.push_contact))
    return existing
