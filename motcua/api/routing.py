"""The API's blueprint and how its routes are declared: `api_route` validates the body with
pydantic and records the route for the OpenAPI document (`ROUTES`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import Blueprint, request
from pydantic import BaseModel, ValidationError

from motcua.auth import authenticated
from motcua.engine.errors import QueueError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


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
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        fields = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in errors]
        names = ", ".join(f["field"] for f in fields)
        raise QueueError("invalid_body", f"Dữ liệu không hợp lệ: {names}.", f"Invalid fields: {names}.", status=422, fields=fields) from None


def api_route(path: str, method: str, *, summary: str, auth: str, body: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200, params: list[dict] | None = None,
              parses_body: bool = False):
    """Register a JSON route; the view receives the validated body as `body=` when one is declared.

    The caller's token is checked before the body is read, so a stranger's body is never parsed;
    a view that reads the token in its own write transaction says `parses_body=True` and calls
    `parse_body` itself once it has checked the caller."""
    ROUTES.append(RouteDoc(path, method.lower(), summary, auth, body, response, status, params or []))

    def wrap(fn):
        @functools.wraps(fn)
        def view(*args, **kwargs):
            if body is not None and not parses_body:
                if auth != "public":
                    authenticated()  # no token, or a made-up or revoked one: a 401 here, the body unread
                kwargs["body"] = parse_body(body)
            return fn(*args, **kwargs)

        bp.add_url_rule(path, endpoint=fn.__name__, view_func=view, methods=[method.upper()])
        return view

    return wrap
