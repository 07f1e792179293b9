"""Be Vietnam Pro, shipped by the pip package ``fontpkg-be-vietnam-pro`` (OFL-1.1).

The package exposes ``ROOT`` (its folder) with a ``metadata.json`` that lists every
TTF with its weight and style; we read that instead of guessing file names.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import fontpkg_be_vietnam_pro as _pkg
from PIL import ImageFont

FAMILY: str = _pkg.FAMILY

_WEIGHT_NAMES = {
    "thin": 100,
    "extralight": 200,
    "light": 300,
    "regular": 400,
    "normal": 400,
    "medium": 500,
    "semibold": 600,
    "bold": 700,
    "extrabold": 800,
    "black": 900,
}


@lru_cache(maxsize=1)
def _catalog() -> dict[tuple[int, str], Path]:
    meta = json.loads((Path(_pkg.ROOT) / "metadata.json").read_text(encoding="utf-8"))
    files: dict[tuple[int, str], Path] = {}
    for entry in meta["files"]:
        path = Path(_pkg.ROOT) / entry["path"]
        if path.is_file():
            files[(int(entry["weight"]), str(entry["style"]))] = path
    if not files:
        raise RuntimeError(f"no font files found in {_pkg.ROOT}; reinstall fontpkg-be-vietnam-pro")
    return files


def _weight(weight: int | str) -> int:
    if isinstance(weight, str):
        key = weight.strip().lower().replace("-", "").replace(" ", "")
        if key not in _WEIGHT_NAMES:
            raise ValueError(f"unknown font weight {weight!r}")
        return _WEIGHT_NAMES[key]
    return int(weight)


def font_path(weight: int | str = 400, *, italic: bool = False) -> Path:
    """Path of the file closest to ``weight`` (100..900) in the wanted style."""
    style = "italic" if italic else "normal"
    wanted = _weight(weight)
    candidates = [(w, p) for (w, s), p in _catalog().items() if s == style]
    if not candidates:
        raise RuntimeError(f"{FAMILY} has no {style} files")
    return min(candidates, key=lambda c: (abs(c[0] - wanted), c[0]))[1]


@lru_cache(maxsize=128)
def font(weight: int | str = 400, size: int = 24, *, italic: bool = False) -> ImageFont.FreeTypeFont:
    """A cached Pillow font.

    BASIC layout on purpose: text is NFC-normalised so every Vietnamese letter is one
    precomposed glyph, and BASIC renders identically whether or not libraqm is
    installed, which keeps tickets (and the golden test image) the same everywhere.
    """
    if size < 1:
        raise ValueError(f"font size must be positive, got {size}")
    return ImageFont.truetype(
        str(font_path(weight, italic=italic)), size, layout_engine=ImageFont.Layout.BASIC
    )
