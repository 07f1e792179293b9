"""The manager room: the live dashboard, reports with charts and exports, and the configuration
pages (changes apply at once and are written to the audit log).

Pages live under /manager/, the reports API under /api/v1/reports/ (its own blueprint, listed in
the core's OpenAPI document).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from motcua.rooms import register_room

LINK = ("Quản lý", "Manager", "/manager/")


def init_app(app: Flask) -> None:
    """Register this room's pages with the app (called through the motcua.plugins entry point)."""
    from manager.api import bp as api_bp
    from manager.api import register_docs
    from manager.config_views import bp as config_bp
    from manager.dossier_views import bp as dossiers_bp
    from manager.dossier_views import register_docs as register_dossier_docs
    from manager.notification_views import bp as notifications_bp
    from manager.staffing_views import bp as staffing_bp
    from manager.views import bp as pages_bp

    register_room(app, pages_bp, config_bp, dossiers_bp, staffing_bp, notifications_bp, api_bp, links=[LINK],
                  homes={"manager": "/manager/", "admin": "/manager/"},
                  translations=Path(__file__).parent / "translations")
    register_docs()
    register_dossier_docs()
