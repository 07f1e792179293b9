"""What the app shares: its config, settings, instance folder and database, at
app.extensions['motcua'], read with `state()`.

It lives apart from the app factory so that any module (the API, auth, real time, the rooms) can
read it without importing the factory, which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, has_request_context, request

from motcua.config import Config
from motcua.db import Database


@dataclass
class Motcua:
    """Everything the app shares, at app.extensions['motcua']."""

    config: Config
    config_path: Path
    instance: Path
    settings: dict
    db: Database

    def status_url(self, public_id: str) -> str:
        """The address behind a ticket's QR code (the kiosk room serves /t/<id>). It must open on
        the citizen's phone: public_url when set, else the address the request came to (the
        kiosk's own), else the server's host and port (jobs printed again at start-up). In
        production never the request's: its Host header is whatever the client wrote, and a QR
        code must not send citizens elsewhere (a warning at start-up asks for public_url)."""
        return self.public_address(f"/t/{public_id}")

    def public_address(self, path: str) -> str:
        """An absolute address of this server as citizens reach it (see status_url): for QR codes
        and for the snippet a commune's website embeds."""
        base = self.settings.get("public_url")
        if not base:
            from_request = has_request_context() and not self.settings.get("production")
            base = request.host_url if from_request else f"http://{self.settings['host']}:{self.settings['port']}/"
        return f"{base.rstrip('/')}{path}"


def state(app: Flask | None = None) -> Motcua:
    return (app or current_app).extensions["motcua"]
