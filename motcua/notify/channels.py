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
from collections.abc import Callable
from typing import Any

from flask import Flask

from motcua.notify.protocol import Channel, Drop, Retry

__all__ = ["Channel", "Drop", "Retry", "channels_for", "forget", "needs_phone", "register", "unregister"]


Factory = Callable[[Flask, str], "Channel | None"]
_factories: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    """Add a kind of channel for every office (see the module's docstring); registering a name
    again replaces its factory."""
    global _version
    with _lock:
        _factories[name] = factory
        _version += 1  # every app builds its offices' channels again


def unregister(name: str) -> None:
    global _version
    with _lock:
        if _factories.pop(name, None) is not None:
            _version += 1


_version = 0
_lock = threading.Lock()


def channels_for(app: Flask, office_code: str) -> list[Channel]:
    """The office's channels, built once per app (and again after a `register`)."""
    cache: dict[str, tuple[int, list[Any]]] = app.extensions.setdefault("motcua.notify.channels", {})
    with _lock:
        built = cache.get(office_code)
        if built is None or built[0] != _version:
            built = cache[office_code] = (_version, _build(app, office_code))
        return built[1]


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
