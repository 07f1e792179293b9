"""Procedure-guide slides and videos for the hall display.

Files are put (by hand, a shared folder or a sync tool) in `<instance>/media/<office code>/`.
Images are shown one after another, videos play to their end (muted: the hall's sound is
for announcements); a folder holding a single video loops it. Files play in name order,
so "01-khai-sinh.png", "02-ket-hon.mp4" sets the order. Sub-folders and hidden files are
ignored, and only the types below are served: the folder is never browsable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from display.packs import OFFICE_CODE

IMAGES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".gif": "image/gif"}
VIDEOS = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg"}
# SVG is left out on purpose: opened directly, an SVG runs scripts on our origin.
MAX_ITEMS = 200


@dataclass(frozen=True)
class MediaItem:
    name: str
    kind: str  # "image" | "video"
    mimetype: str
    version: int  # mtime in seconds: changes bust browser caches

    def as_dict(self) -> dict:
        return asdict(self)


def media_dir(instance: Path, office_code: str) -> Path:
    if not OFFICE_CODE.match(office_code):
        raise ValueError(f"bad office code {office_code!r}")
    return Path(instance) / "media" / office_code


def mimetype_of(name: str) -> tuple[str, str] | None:
    suffix = Path(name).suffix.lower()
    if suffix in IMAGES:
        return "image", IMAGES[suffix]
    if suffix in VIDEOS:
        return "video", VIDEOS[suffix]
    return None


def is_servable(name: str) -> bool:
    """A plain file name (no folder part, not hidden) of an allowed type."""
    return (
        bool(name)
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
        and not name.startswith(".")
        and name not in (".", "..")
        and mimetype_of(name) is not None
    )


def list_media(instance: Path, office_code: str) -> list[MediaItem]:
    folder = media_dir(instance, office_code)
    try:
        paths = sorted(folder.iterdir(), key=lambda p: p.name.casefold())
    except (FileNotFoundError, NotADirectoryError):
        return []
    items: list[MediaItem] = []
    for path in paths:
        if not is_servable(path.name) or not path.is_file():
            continue
        kind, mimetype = mimetype_of(path.name)  # type: ignore[misc]
        items.append(MediaItem(path.name, kind, mimetype, int(path.stat().st_mtime)))
        if len(items) >= MAX_ITEMS:
            break
    return items


def media_file(instance: Path, office_code: str, name: str) -> Path | None:
    """The file to serve, or None: never anything outside the office's media folder."""
    if not is_servable(name):
        return None
    folder = media_dir(instance, office_code).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        return None
    return path
