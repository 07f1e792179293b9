"""What every request must pass before a view sees it: a body of bounded size, and text that the
databases can hold.

- Size: the API's JSON bodies and the pages' forms are small, so a request whose Content-Length
  is over the limit is refused (413) before a byte of it is read, and a body without a length
  is cut at the limit. Only endpoints that take uploads (a room registers them with
  `allow_large_body`) accept more, and only from a signed-in user.
- Text: PostgreSQL cannot store or even compare a string holding NUL (U+0000); one in a path,
  query, form field or JSON string is refused as bad input (400) here, once for every route,
  instead of failing deep in a query.
- JSON: nesting is bounded (MAX_JSON_DEPTH); 100,000 nested arrays are a 400, not a
  RecursionError. The check runs when a view parses the body (`request.get_json()`), so a view
  that authenticates first never parses a stranger's JSON.

Refusals use the API's error shape under any `/api/` path, and the error page elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_login import current_user
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

# The largest real API body is a pause reason or a ticket request (well under 1 KB); the limit
# leaves room for scripts and still lets a JSON array nested 100,000 deep reach the depth check.
API_MAX_BYTES = 256 * 1024
FORM_MAX_BYTES = 256 * 1024  # manager forms (procedure texts, rating scales, many counters)
MAX_JSON_DEPTH = 32


class BadInput(BadRequest):
    """Input no view should see (NUL characters, JSON nested too deep)."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message, self.message_en = message, message_en


def _nul() -> BadInput:
    return BadInput("Dữ liệu chứa ký tự không hợp lệ (NUL).", "The request holds an invalid character (NUL).")


def _check_json(value: Any) -> None:
    """Depth and NUL characters of a parsed JSON value, without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _nul()
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise BadInput(f"Dữ liệu JSON lồng quá sâu (tối đa {MAX_JSON_DEPTH} tầng).",
                               f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
            if isinstance(item, dict):
                stack.extend((k, depth) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


class GuardedJSONProvider(DefaultJSONProvider):
    """The app's JSON, with the checks above on everything it parses (Flask hands the app's
    provider to each request: `request.get_json()` comes here)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise BadInput(f"Dữ liệu JSON lồng quá sâu (tối đa {MAX_JSON_DEPTH} tầng).",
                           f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels).") from None
        _check_json(value)
        return value


class GuardedRequest(Request):
    def _load_form_data(self) -> None:
        super()._load_form_data()
        if any("\x00" in k or "\x00" in v for k, v in self.form.items(multi=True)):
            raise _nul()


def allow_large_body(app: Flask, endpoint: str, max_bytes: int) -> None:
    """Let one endpoint (an upload) take bodies up to max_bytes from signed-in users."""
    app.extensions.setdefault("motcua.large_bodies", {})[endpoint] = max_bytes
    app.config["MAX_CONTENT_LENGTH"] = max(app.config.get("MAX_CONTENT_LENGTH") or 0, max_bytes)


def is_json_path(path: str) -> bool:
    return "/api/" in path


def _limit_for_request(app: Flask) -> int:
    small = API_MAX_BYTES if is_json_path(request.path) else FORM_MAX_BYTES
    large = app.extensions.get("motcua.large_bodies", {}).get(request.endpoint)
    # Only a signed-in user may send an upload's size: a stranger's 10 MB is refused unread.
    return large if large and current_user.is_authenticated else small


def init_app(app: Flask) -> None:
    """Before every other request hook (CSRF and the rate limits read the form)."""
    app.request_class = GuardedRequest
    guarded = GuardedJSONProvider(app)
    guarded.__dict__.update(vars(app.json))  # keeps the app's settings (ensure_ascii, sort_keys)
    app.json = guarded
    app.config["MAX_CONTENT_LENGTH"] = max(app.config.get("MAX_CONTENT_LENGTH") or 0, FORM_MAX_BYTES)

    @app.before_request
    def _guard() -> None:
        limit = _limit_for_request(app)
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
            raise _nul()

    @app.errorhandler(BadInput)
    def _bad_input(exc: BadInput):
        if is_json_path(request.path):
            from motcua.json_errors import error_response

            return error_response("bad_input", exc.message, exc.message_en, 400)
        return render_template("error.html", message=(exc.message, exc.message_en)), 400
