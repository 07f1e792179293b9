"""Ready-made reasons a clerk or citizen can tap instead of typing, as (Vietnamese, English).

An office may set its own lists in its settings (`pause_reasons`, `call_reasons`,
`rating_reasons`: each a list of "text" or ["text", "English"]); these are the defaults.
"""

from __future__ import annotations

from motcua.models import Office

PAUSE = [
    ("Nghỉ giải lao", "Short break"),
    ("Họp, làm việc với lãnh đạo", "Meeting"),
    ("Xử lý hồ sơ đã nhận", "Processing received files"),
    ("Sự cố máy tính, mạng", "Computer or network problem"),
]

CALL = [
    ("Công dân quay lại bổ sung hồ sơ", "The citizen came back with missing documents"),
    ("Công dân thuộc diện ưu tiên", "The citizen has priority"),
    ("Gọi lại số đã bỏ lỡ", "Calling a missed number again"),
    ("Hẹn trả kết quả theo giờ", "Appointment to collect results"),
]

RATING = [
    ("Chờ đợi quá lâu", "Waited too long"),
    ("Thái độ phục vụ chưa tốt", "Unfriendly service"),
    ("Hướng dẫn chưa rõ ràng", "Unclear guidance"),
    ("Phải bổ sung hồ sơ nhiều lần", "Had to add documents several times"),
]


def _pairs(office: Office, key: str, default: list[tuple[str, str]]) -> list[dict]:
    raw = office.settings.get(key)
    items: list[tuple[str, str]] = []
    if isinstance(raw, list) and raw:
        for item in raw:
            if isinstance(item, str) and item.strip():
                items.append((item.strip(), ""))
            elif isinstance(item, (list, tuple)) and item and str(item[0]).strip():
                items.append((str(item[0]).strip(), str(item[1]).strip() if len(item) > 1 else ""))
    return [{"vi": vi, "en": en} for vi, en in (items or default)]


def pause_reasons(office: Office) -> list[dict]:
    return _pairs(office, "pause_reasons", PAUSE)


def call_reasons(office: Office) -> list[dict]:
    return _pairs(office, "call_reasons", CALL)


def rating_reasons(office: Office) -> list[dict]:
    return _pairs(office, "rating_reasons", RATING)
