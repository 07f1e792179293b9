"""Users: the list, the editor (roles, home counter, password), a password reset shown once,
and revoking a user's API tokens. Managers manage the clerks and managers of their office;
only admins make admins."""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from manager import config_forms as F
from manager import config_service as cs
from manager.access import page_office
from manager.config.base import ROLES, bp, ctx, done, int_or_none, show_secret
from manager.config.editor import Editor, Saved, Secret
from motcua import realtime
from motcua.auth import login_required_page
from motcua.engine import clock
from motcua.models import ApiToken, Counter, Office, Role, User
from motcua.security import hash_password
from motcua.state import state


def may_edit(user: User | None) -> bool:
    """Managers manage clerks and managers of their office; admins everyone they see."""
    if user is None:
        return True
    if current_user.role == Role.admin:
        return current_user.office_id is None or user.office_id == current_user.office_id
    return user.role != Role.admin and user.office_id == current_user.office_id


def _editable(s: Session, office: Office, uid: int) -> User:
    """The user behind a page or action: 404 unknown or elsewhere, 403 beyond the signed-in role."""
    u = s.get(User, uid)
    if u is None or u.office_id not in (office.id, None) or not may_edit(u):
        abort(404 if u is None else 403)
    return u


@bp.get("/users")
@login_required_page(*ROLES)
def users():
    with state().db.read() as s:
        office = page_office(s)
        q = select(User).where(User.office_id == office.id)
        rows = list(s.scalars(q.order_by(User.role, User.username)))
        if current_user.role == Role.admin:
            rows += list(s.scalars(select(User).where(User.office_id.is_(None)).order_by(User.username)))
        for u in rows:
            u.counter  # noqa: B018  load before the session closes
        return render_template("manager/config/users.html", rows=rows, may_edit=may_edit, action=F.ActionForm(), **ctx(s, office))


class UserEditor(Editor):
    model, form_class, entity, list_endpoint = User, F.UserForm, "user", ".users"
    locked_on_edit = frozenset({"username"})

    def load(self, s: Session, office: Office, uid: int) -> User:
        return _editable(s, office, uid)

    def make_form(self, s: Session, office: Office, u: User | None) -> Any:
        form = super().make_form(s, office, u)
        form.counter.choices = F.choices([("", _("(không)"))] + [
            (str(c.number), c.label) for c in s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number))
        ])
        if current_user.role != Role.admin:
            form.role.choices = [c for c in form.role.choices if c.value != "admin"]
        if u and request.method == "GET":
            form.role.data = u.role.value
            form.counter.data = str(u.counter.number) if u.counter else ""
        return form

    def title(self, u: User | None) -> str:
        return _("Sửa người dùng %(name)s", name=u.username) if u else _("Thêm người dùng")

    def write(self, s: Session, office: Office, form: Any, u: User | None) -> Saved:
        role = Role(form.role.data)
        if role == Role.admin and current_user.role != Role.admin:
            raise cs.invalid("role", "Chỉ quản trị viên mới tạo được quản trị viên", "only admins can make admins")
        username = u.username if u else form.username.data.strip()
        password = form.password.data or None
        cs.check_user_fields(s, None if u else username, password, u.id if u else None)
        if u is not None and u.id == current_user.id and (role != u.role or not form.active.data):
            raise cs.invalid("role", "Không thể tự đổi vai trò hoặc tự khóa tài khoản của mình", "you cannot change your own role or deactivate yourself")
        number = int_or_none(form.counter.data)
        counter = s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == number)) if number else None
        generated = None
        if u is None:
            if password is None:
                generated = password = secrets.token_urlsafe(9)
            u = User(username=username, office_id=office.id, created_at=clock.now(), password_hash=hash_password(password), role=role)
            s.add(u)
        elif password:
            u.password_hash = hash_password(password)
        u.full_name, u.role, u.active = (form.full_name.data or "").strip(), role, bool(form.active.data)
        u.counter_id = counter.id if counter and role == Role.clerk else None
        s.flush()
        s.refresh(u)
        if generated is None:
            return Saved(u)
        return Saved(u, Secret(_("Mật khẩu của %(name)s", name=u.username), generated,
                               _("Mật khẩu chỉ hiện một lần: đưa cho người dùng và đề nghị đổi khi cần.")))

    def snapshot(self, u: User) -> dict[str, Any]:
        return {"username": u.username, "full_name": u.full_name, "role": u.role.value, "counter": u.counter.number if u.counter else None,
                "active": u.active}

    def audit_id(self, u: User) -> str:
        return u.username

    def audit_values(self, before: dict[str, Any], u: User, form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        after = self.snapshot(u)
        if form.password.data and before:
            before, after = {**before, "password": None}, {**after, "password": cs.CHANGED}  # logged as changed, never shown
        return before, after

    def message(self, form: Any, u: User) -> str:
        return _("Đã lưu người dùng %(name)s.", name=u.username)

    def after_commit(self) -> None:
        realtime.cut_revoked(current_app)  # a deactivated user's open pages and tokens stop at once


UserEditor().register(bp, "/users", "user", "uid")


@bp.post("/users/<int:uid>/password")
@login_required_page(*ROLES)
def user_password(uid: int):
    """A new random password, shown once; the user's API tokens keep working."""
    if not F.ActionForm().validate_on_submit():
        abort(400)
    db = state().db
    password = secrets.token_urlsafe(9)
    with db.write() as s:
        office = page_office(s)
        u = _editable(s, office, uid)
        u.password_hash = hash_password(password)
        cs.apply(s, office, current_user.id, "user", u.username, "reset_password", {"password": None}, {"password": cs.CHANGED})
        name = u.username
    realtime.cut_revoked(current_app)  # the new password ends the user's sessions (motcua.sessions), their live pages too
    with db.read() as s:
        office = page_office(s)
        return show_secret(s, office, _("Mật khẩu mới của %(name)s", name=name), password,
                           _("Mật khẩu cũ đã hết hiệu lực. Mật khẩu mới chỉ hiện một lần."))


@bp.post("/users/<int:uid>/tokens/revoke")
@login_required_page(*ROLES)
def user_tokens_revoke(uid: int):
    """Revoke every API token of the user (a lost laptop, a script that leaked)."""
    if not F.ActionForm().validate_on_submit():
        abort(400)
    with state().db.write() as s:
        office = page_office(s)
        u = _editable(s, office, uid)
        live = s.scalars(select(ApiToken).where(ApiToken.user_id == u.id, ApiToken.revoked_at.is_(None))).all()
        for t in live:
            t.revoked_at = clock.now()
        if live:
            cs.apply(s, office, current_user.id, "user", u.username, "revoke_tokens", {"api_tokens": len(live)}, {"api_tokens": 0})
        name = u.username
    realtime.cut_revoked(current_app)
    return done(_("Đã thu hồi mã API của %(name)s.", name=name), ".users", office)
