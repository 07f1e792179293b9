"""Rate limits (Flask-Limiter): sign-in attempts and ticket issuing; Redis storage when
REDIS_URL is set, so every process counts together, memory otherwise.

Ticket issuing is limited per device (its bearer token, or the staff member) and per client
address, generously enough for a real kiosk (a citizen takes a ticket in two taps, about one
every few seconds at the busiest). Set with environment variables, `off` disables one:

    MOTCUA_ISSUE_LIMIT_DEVICE   default "30/minute"
    MOTCUA_ISSUE_LIMIT_ADDRESS  default "120/minute"  (behind a proxy set MOTCUA_PROXIES, see
                                motcua.production, or every citizen shares the proxy's address)
    MOTCUA_AUTH_FAILURE_LIMIT   default "60/minute"   requests per address refused for a missing,
                                made-up or revoked token; past it they get 429 instead of 401
    MOTCUA_REMOTE_LIMIT_ADDRESS default "20/hour"     remote numbers asked from one address
    MOTCUA_REMOTE_LIMIT_PHONE   default "5/hour"      remote numbers asked for one phone (keyed by
                                its HMAC: the storage never sees the number)
    MOTCUA_BOOKING_LIMIT_ADDRESS default "20/hour"    appointments booked or cancelled from one address
    MOTCUA_BOOKING_LIMIT_PHONE  default "5/hour"      appointments booked for one phone
    MOTCUA_PUSH_LIMIT_ADDRESS   default "30/minute"   Web Push subscriptions made or removed from one
                                address (a hall's Wi-Fi is one address for every phone in it)

Only requests that got through authentication use up the per-address issuing budget: a stranger
sending made-up tokens from the kiosks' address spends the failure budget, which a real kiosk
never touches (its token is good), so the kiosks behind that address keep issuing.

Test apps (testing=True) leave the issuing limits off unless a variable is set, so tests that
issue hundreds of tickets through one kiosk keep testing what they test.

One limiter per app, so apps in one process (tests) never share counters."""

from __future__ import annotations

import hashlib
import os

from flask import Flask, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many

from motcua.config import ConfigError
from motcua.json_errors import error_response

# Failed sign-ins per address and username, and per address across usernames (spraying one
# password over many accounts); a successful one costs nothing.
LOGIN_LIMIT = "5 per minute;30 per hour"
LOGIN_ADDRESS_LIMIT = "20 per minute;100 per hour"
ISSUE_LIMITS = {  # environment variable -> default
    "MOTCUA_ISSUE_LIMIT_DEVICE": "30/minute",
    "MOTCUA_ISSUE_LIMIT_ADDRESS": "120/minute",
    "MOTCUA_AUTH_FAILURE_LIMIT": "60/minute",
    "MOTCUA_REMOTE_LIMIT_ADDRESS": "20/hour",
    "MOTCUA_REMOTE_LIMIT_PHONE": "5/hour",
    "MOTCUA_BOOKING_LIMIT_ADDRESS": "20/hour",
    "MOTCUA_BOOKING_LIMIT_PHONE": "5/hour",
    "MOTCUA_PUSH_LIMIT_ADDRESS": "30/minute",
}


class LimitConfigError(ConfigError):
    """A limit in the environment that Flask-Limiter cannot read."""


def issue_limit(name: str, testing: bool = False) -> str | None:
    """The limit named by the environment variable, its default, or None for `off`."""
    raw = os.environ.get(name)
    if raw is None:
        raw = "off" if testing else ISSUE_LIMITS[name]
    raw = raw.strip()
    if raw.lower() in ("off", "0", "none", "false", ""):
        return None
    try:
        parse_many(raw)
    except ValueError:
        raise LimitConfigError(
            f"{name}='{raw}' không đúng dạng (ví dụ 30/minute hoặc off) / is not a limit (e.g. 30/minute, or off)"
        ) from None
    return raw


def _device_key() -> str:
    """The kiosk's token (hashed: the storage never sees a token), else the signed-in user."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:24]
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "anonymous:" + get_remote_address()


def _address_key() -> str:
    return "addr:" + get_remote_address()


def _login_key() -> str:
    return f"{get_remote_address()}|{(request.form.get('username') or '').strip().lower()}"


def _login_address_key() -> str:
    return "login-addr:" + get_remote_address()


def _failed(resp) -> bool:
    return resp.status_code == 401


def _authenticated(_resp) -> bool:
    from flask import g

    return g.get("principal") is not None  # set by motcua.auth once a token or session is good


def _count_auth_failure(app: Flask, resp):
    """A JSON request refused for a missing or bad token (401) is counted per address on its own
    budget; past the budget the refusal becomes a 429. Counted after the view, outside its
    transaction, and never for requests that authenticated."""
    budget = app.extensions.get("motcua.auth_failure_limit")
    if not budget or resp.status_code != 401 or not resp.is_json:
        return resp
    limiter: Limiter = app.extensions["motcua.limiter"]
    try:
        scope = "motcua:" + app.extensions["motcua"].db.deployment  # as the limiter's own keys
        allowed = all([limiter.limiter.hit(item, scope, "auth-failure", get_remote_address()) for item in budget])  # noqa: C419  every budget counts the failure, so no short circuit
    except Exception:
        return resp
    if allowed:
        return resp
    from motcua.json_errors import error_response

    refused, status = error_response("too_many_requests", "Quá nhiều yêu cầu không hợp lệ, vui lòng thử lại sau.",
                                     "Too many refused requests, try again later.", 429)
    refused.status_code = status
    return refused


def init_app(app: Flask, redis_url: str | None) -> Limiter:
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=redis_url or "memory://",
        # A stalled Redis fails the count within a second (then the in-memory fallback counts)
        # instead of holding every issuing request for as long as the network stays stalled.
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1} if redis_url else {},
        # Keyed by the deployment: every process and host of one service counts together in
        # Redis, while test apps (each with its own database) never share counters.
        key_prefix="motcua:" + app.extensions["motcua"].db.deployment,
        headers_enabled=True,
        swallow_errors=True,  # a Redis outage must not lock everyone out
        in_memory_fallback_enabled=bool(redis_url),
    )
    app.extensions["motcua.limiter"] = limiter
    view = app.view_functions["auth.login"]
    view = limiter.limit(LOGIN_LIMIT, methods=["POST"], key_func=_login_key, deduct_when=_failed)(view)
    app.view_functions["auth.login"] = limiter.limit(LOGIN_ADDRESS_LIMIT, methods=["POST"], key_func=_login_address_key, deduct_when=_failed)(view)
    failures = issue_limit("MOTCUA_AUTH_FAILURE_LIMIT", app.testing)
    app.extensions["motcua.auth_failure_limit"] = parse_many(failures) if failures else []
    app.after_request(lambda resp: _count_auth_failure(app, resp))

    @app.errorhandler(429)
    def _too_many(exc):
        if request.path.startswith("/api/"):
            return error_response("too_many_requests", "Quá nhiều yêu cầu, vui lòng thử lại sau.", "Too many requests, try again later.", 429)
        message = ("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.", "Too many failed sign-ins. Try again in a few minutes.")
        return render_template("error.html", message=message), 429

    return limiter


def init_issue_limits(app: Flask) -> None:
    """Limit POST /api/v1/tickets per device and per address (after the API is registered)."""
    limiter: Limiter = app.extensions["motcua.limiter"]
    device = issue_limit("MOTCUA_ISSUE_LIMIT_DEVICE", app.testing)
    address = issue_limit("MOTCUA_ISSUE_LIMIT_ADDRESS", app.testing)
    app.extensions["motcua.issue_limits"] = {"device": device, "address": address}
    view = app.view_functions["api.issue_ticket"]
    if device:
        view = limiter.limit(device, key_func=_device_key, methods=["POST"])(view)
    if address:  # refusals (401) spend the failure budget instead (_count_auth_failure)
        view = limiter.limit(address, key_func=_address_key, methods=["POST"], deduct_when=_authenticated)(view)
    app.view_functions["api.issue_ticket"] = view


def _remote_address_key() -> str:
    return "remote-addr:" + get_remote_address()


def _remote_phone_key() -> str:
    """The phone of a remote number request, as its HMAC (digits only, so spacing changes nothing)."""
    import hmac

    from flask import current_app

    data = request.get_json(silent=True)
    phone = data.get("phone") if isinstance(data, dict) else None
    digits = "".join(ch for ch in phone if ch.isdigit())[-9:] if isinstance(phone, str) else ""
    if not digits:
        return "remote-phone:none:" + get_remote_address()  # no phone: the address's budget
    return "remote-phone:" + hmac.new(current_app.config["SECRET_KEY"].encode(), digits.encode(), hashlib.sha256).hexdigest()[:32]


def init_remote_limits(app: Flask) -> None:
    """Limit POST /api/v1/public/tickets per address and per phone (no sign-in stands in front of it)."""
    limiter: Limiter = app.extensions["motcua.limiter"]
    address = issue_limit("MOTCUA_REMOTE_LIMIT_ADDRESS", app.testing)
    phone = issue_limit("MOTCUA_REMOTE_LIMIT_PHONE", app.testing)
    view = app.view_functions["api.take_remote_ticket"]
    if phone:
        view = limiter.limit(phone, key_func=_remote_phone_key, methods=["POST"])(view)
    if address:
        view = limiter.limit(address, key_func=_remote_address_key, methods=["POST"])(view)
    app.view_functions["api.take_remote_ticket"] = view


def init_booking_limits(app: Flask) -> None:
    """Limit booking (per address and per phone) and cancelling (per address, one budget with
    booking: codes cannot be tried for free) an appointment."""
    limiter: Limiter = app.extensions["motcua.limiter"]
    address = issue_limit("MOTCUA_BOOKING_LIMIT_ADDRESS", app.testing)
    phone = issue_limit("MOTCUA_BOOKING_LIMIT_PHONE", app.testing)
    shared = limiter.shared_limit(address, scope="booking-addr", key_func=_booking_address_key, methods=["POST"]) if address else None
    for endpoint in ("api.book_appointment", "api.cancel_appointment"):
        view = app.view_functions[endpoint]
        if phone and endpoint == "api.book_appointment":
            view = limiter.limit(phone, key_func=_remote_phone_key, methods=["POST"])(view)
        if shared:
            view = shared(view)
        app.view_functions[endpoint] = view


def _booking_address_key() -> str:
    return "booking-addr:" + get_remote_address()
def init_push_limits(app: Flask) -> None:
    """Limit subscribing browsers to Web Push (POST and DELETE /api/v1/public/tickets/<id>/push) per address."""
    limiter: Limiter = app.extensions["motcua.limiter"]
    address = issue_limit("MOTCUA_PUSH_LIMIT_ADDRESS", app.testing)
    if not address:
        return
    for endpoint in ("api.push_subscribe", "api.push_unsubscribe"):
        app.view_functions[endpoint] = limiter.limit(address, key_func=lambda: "push-addr:" + get_remote_address(), scope="push")(app.view_functions[endpoint])
