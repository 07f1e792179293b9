"""Printers: the list, and the editor. A printer's connection kind and target decide which file,
device or address the server opens for every ticket, so only admins set them; a manager may
rename a printer, switch it on or off, and set its paper width, QR mode and timeout."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from manager import config_forms as F
from manager import config_service as cs
from manager.access import page_office
from manager.config.base import ROLES, bp, ctx
from manager.config.editor import Editor, Saved
from motcua.auth import login_required_page
from motcua.models import Office, Printer, Role
from motcua.printer_targets import Allowlist, check_target
from motcua.state import state

PRINTER_KEYS = ("name", "connection", "target", "profile", "width_dots", "native_qr", "timeout", "active")
CONNECTION_KEYS = frozenset({"connection", "target"})
KNOWN_CONNECTIONS = tuple(value for value, _label in F.CONNECTIONS)


def may_connect() -> bool:
    """Whether the signed-in user may set a printer's connection kind and target."""
    return current_user.role == Role.admin


def _check_target(connection: str, target: str) -> str:
    """The single check of a connection kind and target before they are saved; returns the
    target to store. The server's allow-list of printer targets is asked here."""
    if connection not in KNOWN_CONNECTIONS:
        raise cs.invalid("connection", f"Kiểu kết nối phải là một trong {', '.join(KNOWN_CONNECTIONS)}",
                         f"the connection must be one of {', '.join(KNOWN_CONNECTIONS)}")
    target = target.strip()
    if not target:
        raise cs.invalid("target", "Cần nhập địa chỉ máy in", "the printer needs a target")
    if "\x00" in target:
        raise cs.invalid("target", "Địa chỉ máy in có ký tự không hợp lệ", "the target holds an invalid character")
    refused = check_target(connection, target, Allowlist.of(state()))
    if refused is not None:
        raise cs.invalid("target", refused.message, refused.message_en)
    return target


def _kept_connection(p: Printer | None) -> tuple[str, str]:
    """A manager's save: the printer's own kind and target, refused if the form tries others.
    The form shows both read-only (a disabled select is not sent: it keeps its value)."""
    if p is None:
        raise cs.refused("connection", "Chỉ quản trị viên mới thêm được máy in", "only an admin may add a printer")
    current = (p.connection, p.target or "")
    sent = (request.form.get("connection", current[0]), request.form.get("target", current[1]).strip())
    if sent != current:
        field = "connection" if sent[0] != current[0] else "target"
        raise cs.refused(field, "Chỉ quản trị viên mới đổi được kiểu kết nối và địa chỉ máy in",
                         "only an admin may change a printer's connection and target")
    return current


@bp.get("/printers")
@login_required_page(*ROLES)
def printers():
    with state().db.read() as s:
        office = page_office(s)
        rows = s.scalars(select(Printer).where(Printer.office_id == office.id).order_by(Printer.name)).all()
        return render_template("manager/config/printers.html", rows=rows, may_connect=may_connect(), **ctx(s, office))


class PrinterEditor(Editor):
    model, form_class, entity, list_endpoint = Printer, F.PrinterForm, "printer", ".printers"

    def page(self, obj_id: int | None = None):
        if obj_id is None and not may_connect():
            abort(403)  # a new printer is all connection: an admin's job
        return super().page(obj_id)

    def make_form(self, s: Session, office: Office, p: Printer | None) -> Any:
        form = super().make_form(s, office, p)
        if p and request.method == "GET":
            form.width_dots.data = str(p.width_dots)
        return form

    def title(self, p: Printer | None) -> str:
        return _("Sửa máy in %(name)s", name=p.name) if p else _("Thêm máy in")

    def context(self, s: Session, office: Office, p: Printer | None, form: Any) -> dict[str, Any]:
        return {"locked": set() if may_connect() else set(CONNECTION_KEYS)}

    def write(self, s: Session, office: Office, form: Any, p: Printer | None) -> Saved:
        if may_connect():
            connection = form.connection.data
            target = _check_target(connection, form.target.data or "")
        else:
            connection, target = _kept_connection(p)
        pc = cs.check_printer({
            "name": form.name.data.strip(), "connection": connection, "target": target,
            "profile": (form.profile.data or "default").strip() or "default", "width_dots": int(form.width_dots.data),
            "native_qr": bool(form.native_qr.data), "timeout": form.timeout.data,
        })
        other = s.scalar(select(Printer).where(Printer.office_id == office.id, Printer.name == pc.name))
        if other is not None and other is not p:
            raise cs.invalid("name", f"Đã có máy in {pc.name}", f"printer {pc.name} exists")
        if p is None:
            p = Printer(office_id=office.id, name=pc.name)
            s.add(p)
        for k, v in pc.model_dump().items():
            setattr(p, k, v)
        p.active = bool(form.active.data)
        return Saved(p)

    def snapshot(self, p: Printer) -> dict[str, Any]:
        return cs.snapshot_of(p, PRINTER_KEYS)

    def audit_id(self, p: Printer) -> str:
        return p.name

    def message(self, form: Any, p: Printer) -> str:
        return _("Đã lưu máy in %(name)s.", name=form.name.data)


PrinterEditor().register(bp, "/printers", "printer", "pid")
