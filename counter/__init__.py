"""The clerk side: the counter page (call, recall, start, finish, no-show, transfer, call a
number, pause, resume), the counter's own display and the citizen's rating pad.

Everything a clerk does goes through the core API (/api/v1/counters/<n>/...); this room adds the
pages, a waiting-list endpoint for the counter page and a device endpoint for the pads.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this room's pages with the app (called through the motcua.plugins entry point)."""
    from motcua.app import add_translations

    from counter.views import bp

    app.register_blueprint(bp)
    add_translations(app, Path(__file__).parent / "translations")
    app.extensions.setdefault("motcua.links", []).append(("Quầy làm việc", "Counter", "/counter/"))
    app.extensions.setdefault("motcua.homes", {})["clerk"] = "/counter/"
