"""Channels: the ways a message reaches a citizen.

An office's channels are its `[[offices.notifiers]]` (each a webhook to an SMS/Zalo gateway,
named "webhook:1", "webhook:2" in the file's order) plus whatever other channels registered a
factory here. Another channel plugs in with

    from motcua import notify
    notify.register("push", lambda app, office_code: PushChannel(...) or None)

The factory is called once per office (its answer is cached until `forget()`); it answers None
when the office does not use that channel. A channel says which events it wants, which tickets
it can reach (`reachable`: the triggers queue messages only for those) and delivers one row,
raising `Retry` (try again later) or `Drop` (never send this one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from flask import Flask
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


Factory = Callable[[Flask, str], "Channel | None"]
_factories: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    """Add a kind of channel for every office (see the module's docstring); registering a name
    again replaces its factory."""
    _factories[name] = factory
    for cache in list(_caches):
        cache.clear()


_caches: list[dict[str, list[Any]]] = []
_lock = threading.Lock()


def channels_for(app: Flask, office_code: str) -> list[Channel]:
    """The office's channels, built once per app."""
    cache: dict[str, list[Any]] = app.extensions.setdefault("motcua.notify.channels", {})
    with _lock:
        if cache not in _caches:
            _caches.append(cache)
        if office_code not in cache:
            cache[office_code] = _build(app, office_code)
        return cache[office_code]


def forget(app: Flask) -> None:
    app.extensions.get("motcua.notify.channels", {}).clear()


def _build(app: Flask, office_code: str) -> list[Channel]:
    from motcua.notify.webhook import WebhookChannel
    from motcua.state import state

    st = state(app)
    found: list[Channel] = []
    for oc in st.config.offices:
        if oc.code == office_code:
            found += [WebhookChannel(f"webhook:{i}", n, app.config["SECRET_KEY"]) for i, n in enumerate(oc.notifiers, start=1)]
    for factory in _factories.values():
        channel = factory(app, office_code)
        if channel is not None:
            found.append(channel)
    return found


def needs_phone(app: Flask, office_code: str) -> bool:
    """Whether the office has a gateway that sends to the phone (then remote numbers keep it sealed)."""
    return any(getattr(c, "needs_phone", False) for c in channels_for(app, office_code))
