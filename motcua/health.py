"""`GET /healthz`: is this process able to serve? For the proxy's health checks, systemd
watchdogs and monitoring. And what every page says while the database is unreachable (a
PostgreSQL restart, a failover): 503 with a message in both languages, never a bare 500.

200 `{"status": "ok", "checks": {...}, "realtime": "gevent" | "threading"}` when the database
answers and takes a write (`WriteCheck`), and Redis answers when one is configured; otherwise
503 with the API's error shape, naming what failed. Only the kind of failure is shown (no
connection strings, no server messages): the page is public.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from motcua.json_errors import error_response
from motcua.state import state

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
REDIS_TIMEOUT_S = 1.0

FAILURES = {
    "database": ("không kết nối được cơ sở dữ liệu", "cannot reach the database"),
    "writes": ("không ghi được vào cơ sở dữ liệu", "cannot write to the database"),
    "redis": ("không kết nối được Redis", "cannot reach Redis"),
}


def check_database() -> dict[str, Any]:
    start = time.perf_counter()
    with state().db.read() as s:  # within the database's timeouts, like every request
        s.execute(text("SELECT 1"))
    return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 1)}


WRITE_CHECK_S = 5.0  # a write is proven at most this often per process; in between the last result stands
PROBE_BYTES = 4096  # one page: enough that the filesystem must find a free block


class WriteCheck:
    """Can this process write? Reading is not enough: a full disk or a read-only database
    still answers SELECT 1 while every ticket fails. The check proves what a ticket needs, at
    low cost and at most every WRITE_CHECK_S per process:

    - SQLite: a page written and fsynced to a new file beside the database (a full disk fails
      here; a write that reuses the WAL's pages would not notice), then a write transaction
      that commits through the writer lock (a read-only file or folder, an unwritable -wal or
      -shm fail here);
    - PostgreSQL: a transaction that takes a transaction id and commits, so the server writes
      and flushes a commit record (a server that cannot write its WAL fails here).
    The result of the last proof is kept, so a health check run every second costs one write
    every few seconds."""

    def __init__(self, interval_s: float = WRITE_CHECK_S) -> None:
        self.interval_s = interval_s
        self._at = float("-inf")
        self._result: dict[str, Any] | None = None
        self._error: Exception | None = None

    def __call__(self) -> dict[str, Any]:
        if time.monotonic() - self._at >= self.interval_s:
            self._at = time.monotonic()
            try:
                self._result, self._error = self._prove(), None
            except Exception as exc:
                self._result, self._error = None, exc
        if self._error is not None:
            raise self._error
        return dict(self._result)

    def _prove(self) -> dict[str, Any]:
        db = state().db
        start = time.perf_counter()
        if db.is_sqlite:
            _probe_file(Path(db.engine.url.database).with_name(f".{Path(db.engine.url.database).name}-healthz"))
            with db.write() as s:  # the header's user_version, rewritten as it is: one page through the WAL
                conn = s.connection()
                version = conn.exec_driver_sql("PRAGMA user_version").scalar()
                conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
        else:
            with db.write() as s:
                s.execute(text("SELECT pg_current_xact_id()"))
        return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 1)}


def _probe_file(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, b"\0" * PROBE_BYTES)
        os.fsync(fd)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)


def _redis_client(url: str):
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
    probes = [("database", check_database), ("writes", current_app.extensions.setdefault("motcua.write_check", WriteCheck()))]
    redis_url = state().settings.get("redis_url")
    if redis_url:
        probes.append(("redis", lambda: check_redis(redis_url)))
    for name, probe in probes:
        if name == "writes" and not checks["database"]["ok"]:
            checks[name] = {"ok": False, "error": "database"}  # not tried: no write works without the database
            continue
        try:
            checks[name] = probe()
        except Exception as exc:
            log.warning("health check: %s unreachable: %s", name, exc)
            checks[name] = {"ok": False, "error": type(exc).__name__}
    return checks


@bp.get("/healthz")
def healthz():
    checks = run_checks()
    failed = [name for name, c in checks.items() if not c["ok"]]
    if not failed:
        socketio = current_app.extensions.get("motcua.socketio")
        resp = jsonify(status="ok", checks=checks, realtime=getattr(socketio, "async_mode", None))
    else:
        vi = "; ".join(FAILURES[n][0] for n in failed)
        en = "; ".join(FAILURES[n][1] for n in failed)
        resp, _ = error_response("unhealthy", f"{vi[0].upper()}{vi[1:]}.", f"{en[0].upper()}{en[1:]}.", 503, details=checks)
        resp.status_code = 503
    resp.headers["Cache-Control"] = "no-store"
    return resp


UNAVAILABLE = ("Hệ thống tạm thời gián đoạn, vui lòng thử lại sau ít phút.", "The service is briefly unavailable, please retry in a moment.")


def _database_unavailable(exc: OperationalError):
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
