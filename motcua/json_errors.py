"""The one error answer of every JSON endpoint, the core API's and the rooms' alike:
{"error": {"code", "message" (Vietnamese), "message_en"[, "details"]}} with the right HTTP
status, never an HTML page or a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from motcua.db import is_unavailable
from motcua.engine.errors import QueueError

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: ("Yêu cầu không hợp lệ.", "Bad request."),
    401: ("Cần đăng nhập.", "Authentication required."),
    403: ("Không có quyền.", "Forbidden."),
    404: ("Không tìm thấy.", "Not found."),
    405: ("Phương thức không được hỗ trợ.", "Method not allowed."),
    413: ("Dữ liệu quá lớn.", "Request too large."),
    415: ("Dữ liệu phải là JSON.", "The body must be JSON."),
    429: ("Quá nhiều yêu cầu, vui lòng thử lại sau.", "Too many requests, try again later."),
}
INTERNAL = ("Lỗi hệ thống. Phiếu đã cấp không bị mất; vui lòng thử lại.", "Internal error. Issued tickets are safe; please retry.")


def error_response(code: str, message: str, message_en: str, status: int, details: Any = None) -> tuple[Response, int]:
    body: dict = {"code": code, "message": message, "message_en": message_en}
    if details is not None:
        body["details"] = details
    return jsonify({"error": body}), status


def queue_error(exc: QueueError) -> tuple[Response, int]:
    return error_response(exc.code, exc.message, exc.message_en, exc.status, exc.data or None)


def http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    vi, en = HTTP_MESSAGES.get(status, ("Lỗi.", exc.name))
    resp, status = error_response(exc.name.lower().replace(" ", "_"), vi, en, status)
    if "Allow" in (allowed := dict(exc.get_headers())):
        resp.headers["Allow"] = allowed["Allow"]  # a 405 says which methods the path takes
    return resp, status


def database_error(exc: OperationalError) -> tuple[Response, int]:
    if is_unavailable(exc):
        log.warning("database unavailable: %s", exc.orig)
        return error_response("database_unavailable", "Hệ thống tạm thời gián đoạn, vui lòng thử lại sau ít phút.",
                              "The service is briefly unavailable, please retry in a moment.", 503)
    log.warning("database busy: %s", exc.orig)
    return error_response("busy", "Hệ thống đang bận, vui lòng thử lại.", "The system is busy, please retry.", 503)


def integrity_error(exc: IntegrityError) -> tuple[Response, int]:
    log.warning("integrity error: %s", exc.orig)
    return error_response("conflict", "Xung đột dữ liệu, vui lòng thử lại.", "Conflicting update, please retry.", 409)


def use_json_errors(blueprint: Blueprint, *, internal: tuple[str, str] | None = None) -> None:
    """Give a blueprint the API's error answers: engine errors, database outages (503) and
    conflicts (409). With `internal` (the Vietnamese and English message), for blueprints that
    serve JSON only, HTTP errors answer in JSON and any other exception a JSON 500."""
    blueprint.register_error_handler(QueueError, queue_error)
    blueprint.register_error_handler(OperationalError, database_error)
    blueprint.register_error_handler(IntegrityError, integrity_error)
    if internal is not None:
        vi, en = internal
        # Registered beside the catch-all, or Flask would hand an abort(404) to the catch-all.
        blueprint.register_error_handler(HTTPException, http_error)

        def unexpected(exc: Exception) -> tuple[Response, int]:
            log.exception("unexpected error in %s", blueprint.name)
            return error_response("internal_error", vi, en, 500)

        blueprint.register_error_handler(Exception, unexpected)
