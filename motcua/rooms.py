"""How a room (kiosk, counter, display, printers, manager) plugs into the app: the one helper
each room's `init_app` calls through the `motcua.plugins` entry point."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from flask import Blueprint, Flask

from motcua.extensions import add_translations, csrf

Link = tuple[str, str, str]  # Vietnamese label, English label, address: a tile on the start page


def register_room(
    app: Flask,
    *blueprints: Blueprint,
    bearer: Iterable[Blueprint] = (),
    links: Iterable[Link] = (),
    homes: Mapping[str, str] | None = None,
    translations: Path | None = None,
) -> None:
    """Register a room's blueprints, its links on the start page, the page each role it serves
    lands on after signing in (the first room to name a role wins), and its English catalogue.

    Blueprints in `bearer` serve devices and scripts with tokens: Flask-WTF's automatic CSRF
    check is off for them, and `motcua.auth.check()` enforces CSRF itself for cookie sessions.
    """
    for bp in blueprints:
        app.register_blueprint(bp)
    for bp in bearer:
        csrf.exempt(bp)
        app.register_blueprint(bp)
    known = app.extensions.setdefault("motcua.links", [])
    for link in links:
        if link not in known:
            known.append(link)
    for role, address in (homes or {}).items():
        app.extensions.setdefault("motcua.homes", {}).setdefault(role, address)
    if translations is not None:
        add_translations(app, translations)
