"""The picture on each field's kiosk button, so that a citizen who reads poorly still finds
their field.

The icons are Tabler Icons (MIT, `static/vendor/tabler-icons/`). A field's icon is its
config.toml `icon = "…"` when that icon is bundled, else the first default whose keywords
appear in the field's Vietnamese name, else a plain document.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from motcua.state import state

ICON_DIR = Path(__file__).parent / "static" / "vendor" / "tabler-icons"
GENERIC = "file-text"

# Keywords (lower case, NFC) → icon, first match wins: the usual fields of a one-stop centre.
DEFAULTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("trả kết quả", "nhận kết quả"), "file-check"),
    (("hộ tịch", "khai sinh", "kết hôn"), "baby-carriage"),
    (("chứng thực", "công chứng"), "file-certificate"),
    (("đất đai", "tài nguyên", "môi trường"), "map-2"),
    (("kinh doanh", "đầu tư", "doanh nghiệp"), "building-store"),
    (("lao động", "thương binh", "xã hội", "bảo trợ"), "heart-handshake"),
    (("xây dựng", "quy hoạch", "kiến trúc"), "crane"),
    (("tư pháp", "con nuôi", "quốc tịch"), "gavel"),
    (("giáo dục", "đào tạo"), "school"),
    (("y tế", "bảo hiểm", "dân số"), "stethoscope"),
    (("nông nghiệp", "nông thôn"), "plant-2"),
    (("văn hóa", "văn hoá", "thể thao", "du lịch"), "masks-theater"),
    (("cư trú", "căn cước", "hộ khẩu"), "id-badge"),
)


def available() -> frozenset[str]:
    return frozenset(p.stem for p in ICON_DIR.glob("*.svg"))


def default_icon(name: str) -> str:
    text = unicodedata.normalize("NFC", name).lower()
    for keywords, icon in DEFAULTS:
        if any(k in text for k in keywords):
            return icon
    return GENERIC


def field_icons(office_code: str | None, services: list[tuple[str, str]]) -> dict[str, str]:
    """{field code: icon name} for the office's fields, given as (code, name) pairs."""
    configured: dict[str, str] = {}
    for oc in state().config.offices:
        if oc.code == office_code:
            configured = {fc.code: fc.icon for fc in oc.fields if fc.icon}
    have = available()
    return {code: configured[code] if configured.get(code) in have else default_icon(name) for code, name in services}
