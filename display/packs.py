"""Each office's voice: the default pack overlaid by its uploads, and its announcements.

Folders under the instance folder:

* `<instance>/voicepack/<office code>/`: clips a manager uploaded (`<token>.wav`), laid over
  `display/voicepack/default/` clip by clip;
* `<instance>/audio-cache/`: assembled announcements, one WAV per (pack version, text,
  repeat), shared by every office (the pack version differs when the clips differ).

Loading a pack converts every clip (about 0.3 s), so packs are kept in memory and reloaded
only when the override folder's files change.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from display.announce import VoicePack, build_announcement
from display.voice import DEFAULT_TEMPLATE

OFFICE_CODE = re.compile(r"^[a-z0-9_-]{1,32}$")  # as config.OfficeConfig.code
DEFAULT_REPEAT = 2

_lock = threading.Lock()
_packs: dict[Path, tuple[tuple, VoicePack]] = {}


def override_dir(instance: Path, office_code: str) -> Path:
    if not OFFICE_CODE.match(office_code):
        raise ValueError(f"bad office code {office_code!r}")
    return Path(instance) / "voicepack" / office_code


def cache_dir(instance: Path) -> Path:
    return Path(instance) / "audio-cache"


def _signature(folder: Path) -> tuple:
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return ()
    out = []
    for path in entries:
        if path.suffix in (".wav", ".json"):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            out.append((path.name, st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


def pack_for(instance: Path, office_code: str) -> VoicePack:
    """The office's pack, reloaded when an upload or revert changed its folder."""
    folder = override_dir(instance, office_code)
    signature = _signature(folder)
    with _lock:
        cached = _packs.get(folder)
        if cached is not None and cached[0] == signature:
            return cached[1]
        pack = VoicePack(folder)
        _packs[folder] = (signature, pack)
        return pack


@dataclass(frozen=True)
class Speech:
    template: str
    repeat: int


def office_speech(settings: dict | None) -> Speech:
    settings = settings or {}
    template = settings.get("announcement_template") or DEFAULT_TEMPLATE
    try:
        repeat = int(settings.get("announcement_repeat") or DEFAULT_REPEAT)
    except (TypeError, ValueError):
        repeat = DEFAULT_REPEAT
    return Speech(template, min(max(repeat, 1), 3))


def announcement_wav(instance: Path, office_code: str, settings: dict | None, code: str, counter: int | str, *, repeat: int | None = None) -> Path:
    """The cached WAV of one announcement, built on first use."""
    speech = office_speech(settings)
    return build_announcement(
        pack_for(instance, office_code),
        code,
        counter,
        template=speech.template,
        repeat=repeat or speech.repeat,
        cache_dir=cache_dir(instance),
    )


def display_text(template: str, code: str, counter: int | str) -> str:
    """The announcement as written on screen: the code as printed, not spelled."""
    return template.replace("{number}", str(code)).replace("{counter}", str(counter))
