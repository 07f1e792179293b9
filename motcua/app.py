"""The Flask application factory.

UI rooms (kiosk, counter, display, printers, manager) plug in through the `motcua.plugins`
entry-point group: each exposes `init_app(app)`, so the core never imports them by name.
Only entry points (the CLI, the WSGI module, tests) import this module: what the app shares
lives in `motcua.state` and `motcua.extensions`.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from pathlib import Path

from flask import Flask, g, request

from motcua import auth, dayend, hardening, health, limits, metrics, notify, production, realtime
from motcua.api import bp as api_bp
from motcua.config import effective_settings, instance_path, load_config
from motcua.db import Database, Timeouts
from motcua.extensions import babel, csrf
from motcua.notify import push as web_push
from motcua.security import load_or_create_secret_key
from motcua.state import Motcua

log = logging.getLogger(__name__)
LANGUAGES = ("vi", "en")
# Everything from this origin only (no CDN, no third-party connections, no framing by others),
# and no inline script: pages ask for behaviour with data- attributes (motcua/static/js/page.js),
# so an injected <script> or onclick= never runs. Style attributes stay allowed.
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; connect-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'; "
       "script-src 'self'; style-src 'self' 'unsafe-inline'")


def csp(frame_ancestors: list[str] | None = None) -> str:
    """The policy; a page that may be embedded elsewhere (the public wait board: `g.frame_ancestors`,
    from the office's validated `board_frame_ancestors`) names those sites too."""
    if not frame_ancestors:
        return CSP
    return CSP.replace("frame-ancestors 'self'", "frame-ancestors 'self' " + " ".join(frame_ancestors))


def select_locale() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang")
    return lang if lang in LANGUAGES else "vi"


def create_app(
    config_path: str | Path | None = None,
    *,
    database_url: str | None = None,
    instance: Path | None = None,
    testing: bool = False,
    plugins: bool = True,
    engine_options: dict | None = None,
) -> Flask:
    config, path = load_config(config_path)
    instance = Path(instance).resolve() if instance else instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    settings = effective_settings(config, instance)
    if database_url:
        from motcua.config import normalise_db_url

        settings["database_url"] = normalise_db_url(database_url)

    app = Flask("motcua", instance_path=str(instance), template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=load_or_create_secret_key(instance),
        TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=12 * 3600,  # one working day
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        WTF_CSRF_TIME_LIMIT=None,  # a counter page stays open all day
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    db = Database(settings["database_url"], Timeouts(**settings["database_timeouts"]), **(engine_options or {}))
    app.extensions["motcua"] = Motcua(config, path, instance, settings, db)

    production.init_converters(app)  # before any route: bounded <int:...>
    hardening.init_app(app)  # before any request hook: body size, NUL characters, JSON depth
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    auth.init_app(app)
    limits.init_app(app, settings["redis_url"])
    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie sessions (motcua.auth)
    app.register_blueprint(api_bp)
    limits.init_issue_limits(app)
    limits.init_remote_limits(app)
    limits.init_booking_limits(app)
    limits.init_push_limits(app)
    realtime.init_app(app, db, redis_url=settings["redis_url"])
    health.init_app(app)
    metrics.init_app(app)
    dayend.init_app(app)
    notify.init_app(app)
    web_push.init_app(app)  # the "push" channel; its push_subscriptions joins the metadata

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        embeddable = g.get("frame_ancestors")
        if not embeddable:  # X-Frame-Options cannot name other sites: frame-ancestors alone says who may
            resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("Content-Security-Policy", csp(embeddable))
        lang = request.args.get("lang")
        if lang in LANGUAGES:
            resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax")
        return resp

    @app.context_processor
    def _globals() -> dict:
        return {"lang": select_locale(), "office_name": getattr(g, "office_name", None)}

    @app.get("/")
    def index():
        from flask import render_template

        return render_template("index.html", links=app.extensions.get("motcua.links", []))

    if plugins:
        for ep in sorted(entry_points(group="motcua.plugins"), key=lambda e: e.name):
            ep.load()(app)
    production.init_app(app)  # last: wraps the finished WSGI app for the proxy in front
    return app
