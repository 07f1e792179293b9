"""Short spoken phrases other than calls (the kiosk's guidance), in the office's voice.

Registered with the core as the app's speaker (`motcua.speech`), so the kiosk room can ask
for "Mời chọn lĩnh vực…" or "Số của bạn là A001" without importing this room. Built from
the same pack as the hall's announcements, without the chime, and cached the same way.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from display import audio
from display.announce import _PAUSE_RE, _prune, assemble
from display.packs import cache_dir, pack_for
from display.voice import code_to_words

PHRASE_VERSION = "phrase/1"
MAX_CACHE_ENTRIES = 1000  # as the announcements' (display.announce.build_announcement)


def _segments(parts: list[tuple[str, str]]) -> list[str]:
    out: list[str] = []
    for kind, value in parts:
        if kind == "code":
            out.append(code_to_words(value))
        elif kind == "text":
            out += [p for p in _PAUSE_RE.split(value) if p.strip()]
        else:
            raise ValueError(f"unknown phrase part {kind!r}")
    return out


def phrase_wav(instance: Path, office_code: str, parts: list[tuple[str, str]]) -> Path:
    """The WAV of the phrase; MissingClipsError (a LookupError) names words the pack lacks."""
    pack = pack_for(instance, office_code)
    segments = [tokens for tokens in (pack.tokens_for(seg) for seg in _segments(parts)) if tokens]
    key = hashlib.sha256(f"{PHRASE_VERSION}\n{pack.version}\n{segments!r}".encode()).hexdigest()
    folder = cache_dir(instance)
    path = folder / f"p-{key}.wav"
    try:
        os.utime(path)  # a hit; the fresh mtime keeps it when pruning
        return path
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(audio.wav_bytes(assemble(pack, segments, chime=False), pack.sample_rate))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _prune(folder, MAX_CACHE_ENTRIES)  # one phrase per ticket: keep the shared cache bounded
    return path
