"""Hall displays and spoken announcements.

`display.voice` turns ticket codes and counters into Vietnamese words, `display.announce`
turns those words into one WAV from a voice pack (`display/voicepack/`), `display.packs`
keeps each office's pack and announcements, `display.views` serves the hall display page
(`/display/`), its slides and the announcement audio, `display.voice_admin` the managers'
voice page (`/display/voice`), and `display.agent` keeps LED boards in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motcua.rooms import register_room

LINKS = [("Màn hình sảnh", "Hall display", "/display/"), ("Giọng đọc", "Voice", "/display/voice")]


def init_app(app: Any) -> None:
    """Entry point called by the Flask app factory (``motcua.plugins`` group)."""
    from display.views import bp
    from display.voice_admin import bp as voice_bp

    register_room(app, bp, voice_bp, links=LINKS, translations=Path(__file__).parent / "translations")
    from display.announce import MAX_UPLOAD_BYTES
    from motcua.hardening import allow_large_body

    allow_large_body(app, "display_voice.upload", MAX_UPLOAD_BYTES + 64 * 1024)  # a clip and its form around it
    # The kiosk speaks with the office's voice too: through the core, not by importing this room.
    from display.phrases import phrase_wav
    from motcua import speech
    from motcua.state import state

    speech.register(app, lambda office_code, parts: phrase_wav(state(app).instance, office_code, parts))
