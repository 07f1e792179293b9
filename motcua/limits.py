"""Rate limits (Flask-Limiter): sign-in attempts now; Redis storage when REDIS_URL is set, so
every process counts together, memory otherwise.

One limiter per app, so apps in one process (tests) never share counters."""

from __future__ import annotations

import hashlib

from flask import Flask, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Failed sign-ins per address and username; a successful one costs nothing.
LOGIN_LIMIT = "5 per minute;30 per hour"


def _login_key() -> str:
    return f"{get_remote_address()}|{(request.form.get('username') or '').strip().lower()}"


def init_app(app: Flask, redis_url: str | None) -> Limiter:
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=redis_url or "memory://",
        key_prefix="motcua:" + hashlib.sha256(app.instance_path.encode()).hexdigest()[:12],
        headers_enabled=True,
        swallow_errors=True,  # a Redis outage must not lock everyone out
        in_memory_fallback_enabled=bool(redis_url),
    )
    app.extensions["motcua.limiter"] = limiter
    view = app.view_functions["auth.login"]
    app.view_functions["auth.login"] = limiter.limit(
        LOGIN_LIMIT, methods=["POST"], key_func=_login_key, deduct_when=lambda resp: resp.status_code == 401
    )(view)

    @app.errorhandler(429)
    def _too_many(exc):  # noqa: ANN001, ANN202
        if request.path.startswith("/api/"):
            from motcua.api import error_response

            return error_response("too_many_requests", "Quá nhiều yêu cầu, vui lòng thử lại sau.", "Too many requests, try again later.", 429)
        message = ("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.", "Too many failed sign-ins. Try again in a few minutes.")
        return render_template("error.html", message=message), 429

    return limiter
