"""The kiosk room; its pages are wired in init_app."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this room's pages with the app (called through the motcua.plugins entry point)."""
