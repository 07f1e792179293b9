"""Spoken phrases for any room, in the office's own voice.

The office's voice (packs of recorded clips, the hall's announcements) lives in the display
room. A room that speaks too (the kiosk's spoken guidance) asks here instead of importing
that room: the display room registers its speaker when it loads, and `say()` answers None
when no speaker is loaded, so the caller can say that speech is unavailable.

A phrase is a list of parts: ("text", "Mời chọn lĩnh vực") is said word by word from the
pack's clips, ("code", "A001") is a ticket code read the way the hall reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app

Part = tuple[str, str]
# (office code, parts) -> the WAV file; raises LookupError when the pack lacks a word.
Speaker = Callable[[str, list[Part]], Path]
_KEY = "motcua.speaker"


def register(app: Flask, speaker: Speaker) -> None:
    app.extensions[_KEY] = speaker


def can_say(app: Flask | None = None) -> bool:
    return _KEY in (app or current_app).extensions


def say(office_code: str, parts: list[Part], app: Flask | None = None) -> Path | None:
    """The WAV of the phrase, or None without a speaker. LookupError: a word has no clip."""
    speaker = (app or current_app).extensions.get(_KEY)
    return speaker(office_code, parts) if speaker else None
