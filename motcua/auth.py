"""Who is asking: staff in a browser session (Flask-Login), API clients and devices with a
bearer token. JSON views call `check(roles=..., devices=...)` first; pages use `@login_required_page(...)`."""

from __future__ import annotations

import functools
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from motcua import sessions
from motcua.engine.errors import QueueError
from motcua.models import ApiToken, Device, DeviceKind, Office, Role, User
from motcua.prepared import Prepared
from motcua.security import check_password, hash_password, token_hash
from motcua.state import state

login_manager = LoginManager()
bp = Blueprint("auth", __name__)

STAFF = frozenset({Role.clerk, Role.manager, Role.admin})
MANAGERS = frozenset({Role.manager, Role.admin})


class SessionUser(UserMixin):
    """What Flask-Login keeps of a user between requests (no live ORM object)."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.full_name = user.full_name or user.username
        self.role = user.role
        self.office_id = user.office_id


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    device_id: int | None
    role: Role | None
    device_kind: DeviceKind | None
    office_id: int | None  # None: an admin of every office
    via: str  # "session" | "token"

    def may_see_office(self, office_id: int) -> bool:
        return self.office_id is None or self.office_id == office_id


def _unauthorized() -> QueueError:
    return QueueError("unauthorized", "Cần đăng nhập hoặc mã thiết bị.", "Sign-in or a device token is required.", status=401)


def _forbidden() -> QueueError:
    return QueueError("forbidden", "Bạn không có quyền làm việc này.", "You are not allowed to do this.", status=403)


# Every API request resolves its bearer token: prepared reads.
_DEVICE_BY_TOKEN = Prepared(select(Device.id, Device.kind, Device.office_id).where(
    Device.token_hash == bindparam("digest"), Device.revoked_at.is_(None)))
_USER_BY_TOKEN = Prepared(select(User.id, User.role, User.office_id).join(ApiToken, ApiToken.user_id == User.id)
                          .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None), User.active))


def principal_from_token(session: Session, token: str) -> Principal | None:
    digest = token_hash(token)
    if token.startswith("dev_"):
        d = _DEVICE_BY_TOKEN.first(session.connection(), {"digest": digest})
        return Principal(None, d.id, None, d.kind, d.office_id, "token") if d is not None else None
    u = _USER_BY_TOKEN.first(session.connection(), {"digest": digest})
    return Principal(u.id, None, u.role, None, u.office_id, "token") if u is not None else None


def live_token_digests(session: Session, digests: list[str]) -> set[str]:
    """Which of these token digests still open the door (the rules of principal_from_token):
    sockets opened with a token are cut when theirs no longer does."""
    live: set[str] = set()
    for i in range(0, len(digests), 500):  # bound the IN-list
        chunk = digests[i:i + 500]
        live.update(session.scalars(select(Device.token_hash).where(Device.token_hash.in_(chunk), Device.revoked_at.is_(None))))
        live.update(session.scalars(select(ApiToken.token_hash).join(User, User.id == ApiToken.user_id).where(
            ApiToken.token_hash.in_(chunk), ApiToken.revoked_at.is_(None), User.active)))
    return live


def live_sessions(session: Session, signed_in: list[tuple[int, int | None]]) -> set[tuple[int, int | None]]:
    """Which of these (user id, session version) sign-ins are still valid: a staff page's socket
    closes when its user signs out, is deactivated or has their password or role changed."""
    ids = sorted({user_id for user_id, _version in signed_in})
    if not ids:
        return set()
    current = {row.id: row.session_version for row in session.execute(select(User.id, User.session_version).where(User.id.in_(ids), User.active))}
    return {(user_id, version) for user_id, version in signed_in if current.get(user_id) == version}


def current_principal(session: Session | None = None) -> Principal | None:
    """Bearer token first (devices and scripts), then the browser session. A view that is about
    to open its write transaction passes its session, so the token is read in it and not in a
    read transaction of its own (the hot writes: issuing, calling)."""
    if "principal" in g:
        return g.principal
    principal = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        with nullcontext(session) if session is not None else state().db.read() as s:
            principal = principal_from_token(s, header[7:].strip())
        if principal is None:
            raise QueueError("bad_token", "Mã truy cập không hợp lệ hoặc đã bị thu hồi.", "The token is invalid or revoked.", status=401)
    elif current_user.is_authenticated:
        principal = Principal(current_user.id, None, current_user.role, None, current_user.office_id, "session")
    g.principal = principal
    return principal


def require_csrf() -> None:
    """Cookies ride along on cross-site requests: the CSRF token proves the page is ours."""
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
    except Exception:
        raise QueueError("csrf", "Phiên làm việc đã hết hạn, hãy tải lại trang.", "The page has expired: reload it.", status=400) from None


def authenticated() -> Principal:
    """Who is asking, or a 401: views check this before they read a body."""
    p = current_principal()
    if p is None:
        raise _unauthorized()
    return p


def check(*, roles: frozenset[Role] = frozenset(), devices: frozenset[DeviceKind] = frozenset(),
          session: Session | None = None) -> Principal:
    p = current_principal(session)
    if p is None:
        raise _unauthorized()
    if p.via == "session" and request.method not in ("GET", "HEAD", "OPTIONS"):
        require_csrf()
    if (p.role is not None and p.role in roles) or (p.device_kind is not None and p.device_kind in devices):
        return p
    raise _forbidden()


def login_required_page(*roles: Role):
    """Decorator for HTML pages: redirects to the sign-in page, 403 for the wrong role."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and current_user.role not in roles:
                abort(403)
            return fn(*args, **kwargs)

        return inner

    return wrap


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username.strip(), User.active))
    if user is None:
        # The same scrypt work as a wrong password, so the time taken never tells which usernames exist.
        check_password(_dummy_hash(), password)
        return None
    return user if check_password(user.password_hash, password) else None


def safe_next(target: str | None) -> str | None:
    """A path on this site to go to after signing in, or None. Browsers drop tabs and newlines
    and read backslashes as slashes, so `/\t/evil.example` would leave the site: such characters
    refuse the target outright, and only a single leading slash is a path."""
    if not target or any(ord(ch) < 0x21 or ch in "\\\x7f" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        with state().db.read() as s:
            user = authenticate(s, request.form.get("username", ""), request.form.get("password", ""))
            if user is not None:
                from flask import session as flask_session

                # A new session: nothing from before sign-in carries over, the CSRF token included.
                flask_session.clear()
                g.pop("csrf_token", None)
                login_user(SessionUser(user), remember=False)
                sessions.remember(user)
                flask_session.permanent = True
                return redirect(safe_next(request.args.get("next")) or _home_for(user))
        error = ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password.")
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    from flask import session as flask_session

    if current_user.is_authenticated:
        with state().db.write() as s:
            sessions.end_all(s, current_user.id)  # copies of this session's cookie stop working too
    logout_user()  # Flask-Login's user_logged_out: realtime closes the user's open pages' sockets
    flask_session.clear()
    flash("Đã đăng xuất. / Signed out.")
    return redirect(url_for("auth.login"))


def _home_for(user: User) -> str:
    homes = current_app.extensions.get("motcua.homes", {})
    return homes.get(user.role.value) or "/"


def office_for(principal: Principal, session: Session, code: str | None = None) -> Office:
    """The office a request acts on: the principal's own, or the one named (admins of all offices)."""
    return session.get(Office, office_id_for(principal, session, code))


def office_id_for(principal: Principal, session: Session, code: str | None = None) -> int:
    """office_for's id alone, without loading the office (issuing reads only a few columns)."""
    if code:
        office_id = session.scalar(select(Office.id).where(Office.code == code))
        if office_id is None or not principal.may_see_office(office_id):
            raise QueueError("unknown_office", f"Không có đơn vị '{code}'.", f"There is no office '{code}'.", status=404)
        return office_id
    if principal.office_id is not None:
        return principal.office_id
    offices = session.scalars(select(Office.id).order_by(Office.id).limit(2)).all()
    if len(offices) == 1:
        return offices[0]
    raise QueueError("office_required", "Hãy chọn đơn vị (tham số office).", "Name the office (the office parameter).", status=422)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập. / Please sign in."

    @login_manager.user_loader
    def _load(user_id: str):
        with state(app).db.read() as s:
            user = s.get(User, int(user_id))
            return SessionUser(user) if user is not None and sessions.is_current(user) else None

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return render_template("error.html", message=("Trang đã hết hạn, hãy tải lại.", "The page expired: reload it.")), 400

    app.register_blueprint(bp)
