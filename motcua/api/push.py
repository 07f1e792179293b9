"""Web Push subscriptions from the ticket's status page (motcua.notify.push).

Whoever holds the ticket's public id may subscribe browsers to it, as they may follow and cancel
it: no sign-in. The endpoint must be at an allowed push service (422 `bad_subscription`
otherwise); limited per address (motcua.limits)."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from pydantic import Field
from sqlalchemy import func, select

from motcua import auth
from motcua.api.routing import api_route
from motcua.api.schemas import _Body
from motcua.engine import clock, tickets
from motcua.engine.errors import QueueError
from motcua.models import OPEN_STATUSES, Office
from motcua.notify import push
from motcua.notify.subscriptions import PushSubscription
from motcua.state import state

_B64URL = r"^[A-Za-z0-9_-]+={0,2}$"


class PushKeys(_Body):
    p256dh: str = Field(min_length=80, max_length=128, pattern=_B64URL, description="The browser's P-256 public key, base64url")
    auth: str = Field(min_length=16, max_length=64, pattern=_B64URL, description="Its 16-byte auth secret, base64url")


class PushSubscribe(_Body):
    """The browser's `PushSubscription.toJSON()`."""

    endpoint: str = Field(min_length=10, max_length=2048, description="The browser's address at its push service (an allowed one)")
    expirationTime: float | None = None
    keys: PushKeys


class PushUnsubscribe(_Body):
    endpoint: str = Field(min_length=10, max_length=2048)


class PushKeyOut(_Body):
    key: str = Field(description="The server's VAPID public key: pushManager.subscribe's applicationServerKey")


def _no_staff_forgery() -> None:
    """A browser carrying a staff session must show the page's CSRF token (as for cancelling)."""
    if request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        auth.require_csrf()


@api_route("/public/push/key", "GET", summary="The server's VAPID public key for Web Push", auth="public", response=PushKeyOut)
def push_key():
    resp = jsonify(key=push.pusher(current_app).public_key)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@api_route("/public/tickets/<public_id>/push", "POST", summary="Notify this browser when the turn is near and when called (Web Push)",
           auth="public", body=PushSubscribe, status=201)
def push_subscribe(public_id: str, body: PushSubscribe):
    _no_staff_forgery()
    pusher = push.pusher(current_app)
    push.check_endpoint(body.endpoint, pusher.services)
    push.check_keys(body.keys.p256dh, body.keys.auth)
    with state().db.write() as s:
        t = tickets.find_ticket(s, public_id)
        office = s.get(Office, t.office_id)
        if t.status not in OPEN_STATUSES or t.business_day != clock.business_day(clock.now(), office.timezone):  # over, or an earlier day's
            raise QueueError("ticket_closed", "Số này đã kết thúc, không cần báo nữa.", "This number is over: nothing left to notify.", status=409)
        existing = s.scalar(select(PushSubscription).where(PushSubscription.ticket_id == t.id, PushSubscription.endpoint == body.endpoint))
        if existing is not None:  # the same browser again: its keys may have changed
            existing.p256dh, existing.auth = body.keys.p256dh, body.keys.auth
            return jsonify(subscribed=True), 201
        count = s.scalar(select(func.count()).select_from(PushSubscription).where(PushSubscription.ticket_id == t.id))
        if count >= push.MAX_PER_TICKET:
            raise QueueError("too_many_subscriptions", "Số này đã đăng ký nhận thông báo trên quá nhiều thiết bị.",
                             "Too many devices already get notifications for this number.", status=409)
        s.add(PushSubscription(ticket_id=t.id, endpoint=body.endpoint, p256dh=body.keys.p256dh, auth=body.keys.auth, created_at=clock.now()))
    return jsonify(subscribed=True), 201


@api_route("/public/tickets/<public_id>/push", "DELETE", summary="Stop notifying this browser", auth="public", body=PushUnsubscribe, status=204)
def push_unsubscribe(public_id: str, body: PushUnsubscribe):
    _no_staff_forgery()
    with state().db.write() as s:
        t = tickets.find_ticket(s, public_id)
        row = s.scalar(select(PushSubscription).where(PushSubscription.ticket_id == t.id, PushSubscription.endpoint == body.endpoint))
        if row is not None:
            s.delete(row)
    return Response(status=204)
