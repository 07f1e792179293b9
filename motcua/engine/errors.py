"""Errors the engine raises, each with a stable code and messages in Vietnamese and English."""

from __future__ import annotations


class QueueError(Exception):
    status = 400

    def __init__(self, code: str, message: str, message_en: str, status: int | None = None, **data: object) -> None:
        super().__init__(message_en)
        self.code = code
        self.message = message
        self.message_en = message_en
        self.data = data
        if status is not None:
            self.status = status

    def to_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message, "message_en": self.message_en}
        if self.data:
            body["details"] = self.data
        return body


def not_found(what_vi: str, what_en: str, code: str = "not_found") -> QueueError:
    return QueueError(code, f"Không tìm thấy {what_vi}.", f"{what_en} not found.", status=404)


def conflict(code: str, message: str, message_en: str, **data: object) -> QueueError:
    return QueueError(code, message, message_en, status=409, **data)
