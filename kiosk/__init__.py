"""The citizen side: the kiosk touch page that issues tickets, and the public status page
behind each ticket's QR code (`/t/<public_id>`).

Tickets are issued through the core API (`POST /api/v1/tickets`); this room adds the pages,
the QR images and the kiosk's print-status endpoint.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from motcua.rooms import register_room

LINK = ("Kiosk lấy số", "Kiosk", "/kiosk/")


def init_app(app: Flask) -> None:
    """Register this room's pages with the app (called through the motcua.plugins entry point)."""
    from kiosk.api import bp as api_bp
    from kiosk.booking_views import bp as booking_bp
    from kiosk.public_views import bp as public_bp
    from kiosk.views import bp

    register_room(app, bp, public_bp, booking_bp, bearer=[api_bp], links=[LINK], translations=Path(__file__).parent / "translations")
