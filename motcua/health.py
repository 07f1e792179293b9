"""`GET /healthz`: is this process able to serve? For the proxy's health checks, systemd
watchdogs and monitoring. And what every page says while the database is unreachable (a
PostgreSQL restart, a failover): 503 with a message in both languages, never a bare 500.

200 `{"status": "ok", "checks": {...}, "realtime": "gevent" | "threading"}` when the database answers (and Redis, when one is
configured); otherwise 503 with the API's error shape, naming what failed. Only the kind of
failure is shown (no connection strings, no server messages): the page is public.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from motcua.json_errors import error_response
from motcua.state import state

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
REDIS_TIMEOUT_S = 1.0

NAMES = {"database": ("cơ sở dữ liệu", "the database"), "redis": ("Redis", "Redis")}


def check_database() -> dict[str, Any]:
    start = time.perf_counter()
    with state().db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 1)}


def _redis_client(url: str):  # noqa: ANN202
    """One small client per app, with short timeouts: a dead Redis must not hang the check."""
    client = current_app.extensions.get("motcua.health_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S)
        current_app.extensions["motcua.health_redis"] = client
    return client


def check_redis(url: str) -> dict[str, Any]:
    start = time.perf_counter()
    _redis_client(url).ping()
    return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 1)}


def run_checks() -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    probes = [("database", check_database)]
    redis_url = state().settings.get("redis_url")
    if redis_url:
        probes.append(("redis", lambda: check_redis(redis_url)))
    for name, probe in probes:
        try:
            checks[name] = probe()
        except Exception as exc:  # noqa: BLE001  any failure is "not reachable"; the log keeps the detail
            log.warning("health check: %s unreachable: %s", name, exc)
            checks[name] = {"ok": False, "error": type(exc).__name__}
    return checks


@bp.get("/healthz")
def healthz():  # noqa: ANN201
    checks = run_checks()
    failed = [name for name, c in checks.items() if not c["ok"]]
    if not failed:
        socketio = current_app.extensions.get("motcua.socketio")
        resp = jsonify(status="ok", checks=checks, realtime=getattr(socketio, "async_mode", None))
    else:
        vi = ", ".join(NAMES[n][0] for n in failed)
        en = ", ".join(NAMES[n][1] for n in failed)
        resp, _ = error_response("unhealthy", f"Không kết nối được {vi}.", f"Cannot reach {en}.", 503, details=checks)
        resp.status_code = 503
    resp.headers["Cache-Control"] = "no-store"
    return resp


UNAVAILABLE = ("Hệ thống tạm thời gián đoạn, vui lòng thử lại sau ít phút.", "The service is briefly unavailable, please retry in a moment.")


def _database_unavailable(exc: OperationalError):  # noqa: ANN202
    """Pages and room endpoints without their own handler (the API has one: same answer)."""
    from motcua.db import is_unavailable

    log.warning("database %s: %s", "unavailable" if is_unavailable(exc) else "busy", exc.orig)
    if "/api/" in request.path or request.accept_mimetypes.best == "application/json":
        resp, _ = error_response("database_unavailable", *UNAVAILABLE, 503)
    else:
        resp = current_app.make_response(render_template("error.html", message=UNAVAILABLE))
    resp.status_code = 503
    resp.headers["Retry-After"] = "5"
    return resp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(OperationalError, _database_unavailable)
