"""The Flask extensions the app factory sets up and the rooms use: CSRF protection (a room
exempts its bearer-token blueprints) and Flask-Babel (a room adds its own catalogue)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()


def add_translations(app: Flask, folder: Path) -> None:
    """A room's own catalogue folder (Flask-Babel merges every folder's messages)."""
    dirs = app.extensions["babel"].translation_directories
    if str(folder) not in dirs:
        dirs.append(str(folder))
