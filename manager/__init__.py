"""The manager room: the live dashboard, reports with charts and exports, and the configuration
pages (changes apply at once and are written to the audit log).

Pages live under /manager/, the reports API under /api/v1/reports/ (its own blueprint, listed in
the core's OpenAPI document).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

LINK = ("Quản lý", "Manager", "/manager/")


def init_app(app: Flask) -> None:
    """Register this room's pages with the app (called through the motcua.plugins entry point)."""
    from manager.api import bp as api_bp
    from manager.api import register_docs
    from manager.config_views import bp as config_bp
    from manager.views import bp as pages_bp
    from motcua.app import add_translations

    app.register_blueprint(pages_bp)
    app.register_blueprint(config_bp)
    app.register_blueprint(api_bp)
    register_docs()
    links = app.extensions.setdefault("motcua.links", [])
    if LINK not in links:
        links.append(LINK)
    homes = app.extensions.setdefault("motcua.homes", {})
    homes.setdefault("manager", "/manager/")
    homes.setdefault("admin", "/manager/")
    add_translations(app, Path(__file__).parent / "translations")
