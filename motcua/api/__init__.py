"""JSON API under /api/v1.

Errors always have the body {"error": {"code", "message" (Vietnamese), "message_en"}} with the
right HTTP status, never an HTML page or a bare 500 (`motcua.json_errors`). Routes are declared
with `api_route` (`motcua.api.routing`), which validates the body with pydantic and records the
route in the OpenAPI document; importing this package registers them all on `bp`.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import HTTPException

from motcua.api import appointments, dossiers, public, push, ratings, routes  # noqa: F401  registers the routes
from motcua.api.routing import bp
from motcua.json_errors import INTERNAL, http_error, use_json_errors

use_json_errors(bp, internal=INTERNAL)


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    """JSON for everything under an /api/ path, including routing errors (404, 405) raised
    before any view runs; other paths keep Flask's pages."""
    if "/api/" not in request.path:  # the rooms' JSON endpoints too (/counter/api/..., /kiosk/api/...)
        return exc
    return http_error(exc)
