"""The rooms' English catalogues are merged into one domain (motcua.extensions.add_translations):
a Vietnamese text translated one way in one room and another way in the next would show
whichever catalogue was loaded last, on every page. And each compiled catalogue is its source's."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for p in ROOT.glob("*/translations/en/LC_MESSAGES/messages.po"))


def _catalogue(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def test_every_room_has_an_english_catalogue() -> None:
    rooms = {p.parts[len(ROOT.parts)] for p in SOURCES}
    assert {"kiosk", "counter", "display", "manager"} <= rooms, rooms


def test_one_vietnamese_text_has_one_english_translation_across_rooms() -> None:
    seen: dict[tuple[str | None, str], tuple[str, str]] = {}
    clashes = []
    for path in SOURCES:
        room = path.parts[len(ROOT.parts)]
        for m in _catalogue(path):
            if not m.id or not m.string or m.fuzzy:
                continue
            key = (m.context, m.id)  # pgettext's context keeps two meanings apart
            if key in seen and seen[key][1] != m.string:
                clashes.append(f"{key}: {seen[key][0]} says {seen[key][1]!r}, {room} says {m.string!r}")
            seen.setdefault(key, (room, m.string))
    assert not clashes, "\n".join(clashes)


def test_compiled_catalogues_match_their_sources() -> None:
    for path in SOURCES:
        with path.with_suffix(".mo").open("rb") as f:
            compiled = read_mo(f)
        for m in _catalogue(path):
            if m.id and m.string and not m.fuzzy:
                got = compiled.get(m.id, m.context)
                assert got is not None and got.string == m.string, \
                    f"{path.relative_to(ROOT)}: messages.mo is older than messages.po for {m.id!r}"
