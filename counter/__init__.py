"""The clerk side: the counter page (call, recall, start, finish, no-show, transfer, call a
number, pause, resume), the counter's own display and the citizen's rating pad.

Everything a clerk does goes through the core API (/api/v1/counters/<n>/...); this room adds the
pages, a waiting-list endpoint for the counter page and a device endpoint for the pads.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from motcua.rooms import register_room

LINK = ("Quầy làm việc", "Counter", "/counter/")


def init_app(app: Flask) -> None:
    """Register this room's pages with the app (called through the motcua.plugins entry point)."""
    from counter.views import bp

    register_room(app, bp, links=[LINK], homes={"clerk": "/counter/"}, translations=Path(__file__).parent / "translations")
