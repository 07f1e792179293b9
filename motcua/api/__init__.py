"""JSON API under /api/v1.

Errors always have the body {"error": {"code", "message" (Vietnamese), "message_en"}} with the
right HTTP status, never an HTML page or a bare 500. Routes are declared with `api_route`, which
validates the body with pydantic and records the route in the OpenAPI document.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from motcua.db import is_unavailable
from motcua.engine.errors import QueueError

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")

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


def error_response(code: str, message: str, message_en: str, status: int, details: Any = None):  # noqa: ANN201
    body: dict = {"code": code, "message": message, "message_en": message_en}
    if details is not None:
        body["details"] = details
    return jsonify({"error": body}), status


@dataclass
class RouteDoc:
    path: str
    method: str
    summary: str
    auth: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    params: list[dict] = field(default_factory=list)


ROUTES: list[RouteDoc] = []


def parse_body(model: type[BaseModel]) -> BaseModel:
    if request.content_length and not request.is_json:
        raise QueueError("unsupported_media_type", "Dữ liệu phải là JSON.", "The body must be JSON.", status=415)
    data = request.get_json(silent=True)
    if data is None:
        if request.content_length:
            raise QueueError("bad_json", "Dữ liệu JSON không đọc được.", "The JSON body could not be parsed.", status=400)
        data = {}
    if not isinstance(data, dict):
        raise QueueError("bad_json", "Dữ liệu phải là một đối tượng JSON.", "The body must be a JSON object.", status=400)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors(include_url=False, include_context=False, include_input=False)]
        names = ", ".join(f["field"] for f in fields)
        raise QueueError("invalid_body", f"Dữ liệu không hợp lệ: {names}.", f"Invalid fields: {names}.", status=422, fields=fields) from None


def api_route(path: str, method: str, *, summary: str, auth: str, body: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200, params: list[dict] | None = None,
              parses_body: bool = False):  # noqa: ANN201
    """Register a JSON route; the view receives the validated body as `body=` when one is declared.

    The caller's token is checked before the body is read, so a stranger's body is never parsed;
    a view that reads the token in its own write transaction says `parses_body=True` and calls
    `parse_body` itself once it has checked the caller."""
    ROUTES.append(RouteDoc(path, method.lower(), summary, auth, body, response, status, params or []))

    def wrap(fn):  # noqa: ANN001, ANN202
        @functools.wraps(fn)
        def view(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            if body is not None and not parses_body:
                if auth != "public":
                    from motcua.auth import authenticated

                    authenticated()  # no token, or a made-up or revoked one: a 401 here, the body unread
                kwargs["body"] = parse_body(body)
            return fn(*args, **kwargs)

        bp.add_url_rule(path, endpoint=fn.__name__, view_func=view, methods=[method.upper()])
        return view

    return wrap


@bp.errorhandler(QueueError)
def _queue_error(exc: QueueError):  # noqa: ANN202
    return error_response(exc.code, exc.message, exc.message_en, exc.status, exc.data or None)


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):  # noqa: ANN202
    """JSON for everything under an /api/ path, including routing errors (404, 405) raised
    before any view runs; other paths keep Flask's pages."""
    if "/api/" not in request.path:  # the rooms' JSON endpoints too (/counter/api/..., /kiosk/api/...)
        return exc
    status = exc.code or 500
    vi, en = HTTP_MESSAGES.get(status, ("Lỗi.", exc.name))
    resp, status = error_response(exc.name.lower().replace(" ", "_"), vi, en, status)
    if "Allow" in (allowed := dict(exc.get_headers())):
        resp.headers["Allow"] = allowed["Allow"]  # a 405 says which methods the path takes
    return resp, status


@bp.errorhandler(OperationalError)
def _db_error(exc: OperationalError):  # noqa: ANN202
    if is_unavailable(exc):
        log.warning("database unavailable: %s", exc.orig)
        return error_response("database_unavailable", "Hệ thống tạm thời gián đoạn, vui lòng thử lại sau ít phút.",
                              "The service is briefly unavailable, please retry in a moment.", 503)
    log.warning("database busy: %s", exc.orig)
    return error_response("busy", "Hệ thống đang bận, vui lòng thử lại.", "The system is busy, please retry.", 503)


@bp.errorhandler(IntegrityError)
def _integrity(exc: IntegrityError):  # noqa: ANN202
    log.warning("integrity error: %s", exc.orig)
    return error_response("conflict", "Xung đột dữ liệu, vui lòng thử lại.", "Conflicting update, please retry.", 409)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):  # noqa: ANN202
    if isinstance(exc, HTTPException):  # e.g. a 413 from the body limit: this handler is found before the app's
        return _http_error(exc)
    log.exception("unexpected error in the API")
    return error_response("internal_error", "Lỗi hệ thống. Phiếu đã cấp không bị mất; vui lòng thử lại.",
                          "Internal error. Issued tickets are safe; please retry.", 500)


def use_json_errors(blueprint: Blueprint) -> None:
    """Give a room's JSON blueprint the API's error answers (engine errors, database outages)."""
    blueprint.register_error_handler(QueueError, _queue_error)
    blueprint.register_error_handler(OperationalError, _db_error)
    blueprint.register_error_handler(IntegrityError, _integrity)


from motcua.api import routes  # noqa: E402,F401  registers the routes
from motcua.api import ratings  # noqa: E402,F401
