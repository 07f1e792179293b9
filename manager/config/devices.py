"""Devices (kiosks, displays, counter displays, rating pads): the list, the editor, and their
tokens (a new one shown once; revoking closes the device's sockets at once)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from manager import config_forms as F
from manager import config_service as cs
from manager.access import page_office
from manager.config.base import ROLES, bp, ctx, done, get_in_office, int_or_none, show_secret
from manager.config.editor import Editor, Saved, Secret
from motcua import realtime
from motcua.auth import login_required_page
from motcua.engine import clock
from motcua.models import Counter, Device, DeviceKind, Office, Printer
from motcua.security import new_token, token_hash
from motcua.state import state


def device_snapshot(d: Device) -> dict[str, Any]:
    return {
        "name": d.name, "kind": d.kind.value,
        "counter": d.counter.number if d.counter else None,
        "printer": d.printer.name if d.printer else None,
        "backup_printer": d.backup_printer.name if d.backup_printer else None,
        "token": "revoked" if d.revoked_at else ("active" if d.token_hash else "none"),
    }


def device_page_url(d: Device, token: str) -> str:
    from motcua.cli import DEVICE_PAGES

    path = DEVICE_PAGES[d.kind][2]
    base = state().settings.get("public_url") or request.host_url
    return f"{base.rstrip('/')}{path}?token={token}"


@bp.get("/devices")
@login_required_page(*ROLES)
def devices():
    with state().db.read() as s:
        office = page_office(s)
        rows = s.scalars(select(Device).where(Device.office_id == office.id).order_by(Device.kind, Device.name)).all()
        for d in rows:
            d.counter, d.printer, d.backup_printer  # noqa: B018  load before the session closes
        return render_template("manager/config/devices.html", rows=rows, action=F.ActionForm(), **ctx(s, office))


class DeviceEditor(Editor):
    model, form_class, entity, list_endpoint = Device, F.DeviceForm, "device", ".devices"

    def make_form(self, s: Session, office: Office, d: Device | None) -> Any:
        form = super().make_form(s, office, d)
        none = [("", _("(không)"))]
        counters = [(str(c.number), c.label) for c in s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number))]
        printers = [(p.name, p.name) for p in s.scalars(select(Printer).where(Printer.office_id == office.id).order_by(Printer.name))]
        form.counter.choices = F.choices(none + counters)
        form.printer.choices = F.choices(none + printers)
        form.backup_printer.choices = F.choices(none + printers)
        if d and request.method == "GET":
            form.kind.data = d.kind.value
            form.counter.data = str(d.counter.number) if d.counter else ""
            form.printer.data = d.printer.name if d.printer else ""
            form.backup_printer.data = d.backup_printer.name if d.backup_printer else ""
        return form

    def title(self, d: Device | None) -> str:
        return _("Sửa thiết bị %(name)s", name=d.name) if d else _("Thêm thiết bị")

    def context(self, s: Session, office: Office, d: Device | None, form: Any) -> dict[str, Any]:
        return {}

    def write(self, s: Session, office: Office, form: Any, d: Device | None) -> Saved:
        dc = cs.check_device({
            "name": form.name.data.strip(), "kind": form.kind.data, "printer": form.printer.data or None,
            "backup_printer": form.backup_printer.data or None, "counter": int_or_none(form.counter.data),
        })
        other = s.scalar(select(Device).where(Device.office_id == office.id, Device.name == dc.name))
        if other is not None and other is not d:
            raise cs.invalid("name", f"Đã có thiết bị {dc.name}", f"device {dc.name} exists")
        counter = s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == dc.counter)) if dc.counter else None
        if dc.counter and counter is None:
            raise cs.invalid("counter", f"Không có quầy {dc.counter}", f"no counter {dc.counter}")
        if dc.kind in ("rating", "counter_display") and counter is None:
            raise cs.invalid("counter", "Máy đánh giá và màn hình quầy cần gắn với một quầy", "rating pads and counter displays need a counter")
        by_name = {p.name: p for p in s.scalars(select(Printer).where(Printer.office_id == office.id))}
        token = None
        if d is None:
            d = Device(office_id=office.id, name=dc.name, kind=DeviceKind(dc.kind), created_at=clock.now())
            s.add(d)
            token = new_token("dev")
            d.token_hash = token_hash(token)
        d.name, d.kind = dc.name, DeviceKind(dc.kind)
        d.counter_id = counter.id if counter else None
        d.printer_id = by_name[dc.printer].id if dc.printer else None
        d.backup_printer_id = by_name[dc.backup_printer].id if dc.backup_printer else None
        s.flush()
        s.refresh(d)
        if token is None:
            return Saved(d)
        return Saved(d, Secret(_("Mã của thiết bị %(name)s", name=d.name), token,
                               _("Mã chỉ hiện một lần. Nhập vào thiết bị hoặc mở địa chỉ dưới đây trên thiết bị."), device_page_url(d, token)))

    def snapshot(self, d: Device) -> dict[str, Any]:
        return device_snapshot(d)

    def audit_id(self, d: Device) -> str:
        return d.name

    def message(self, form: Any, d: Device) -> str:
        return _("Đã lưu thiết bị %(name)s.", name=form.name.data)


DeviceEditor().register(bp, "/devices", "device", "did")


@bp.post("/devices/<int:did>/token")
@login_required_page(*ROLES)
def device_token(did: int):
    """A new token (the old one stops working at once), shown once."""
    if not F.ActionForm().validate_on_submit():
        abort(400)
    db = state().db
    token = new_token("dev")
    with db.write() as s:
        office = page_office(s)
        d = get_in_office(s, Device, did, office)
        before = device_snapshot(d)
        d.token_hash, d.revoked_at = token_hash(token), None
        s.flush()
        cs.apply(s, office, current_user.id, "device", d.name, "token_issued", before, {**device_snapshot(d), "token": "new"})
        url, name = device_page_url(d, token), d.name
    realtime.cut_revoked(current_app)  # the screen reopens with its new token
    with db.read() as s:
        office = page_office(s)
        return show_secret(s, office, _("Mã mới của thiết bị %(name)s", name=name), token,
                           _("Mã cũ đã hết hiệu lực. Mã mới chỉ hiện một lần."), url)


@bp.post("/devices/<int:did>/revoke")
@login_required_page(*ROLES)
def device_revoke(did: int):
    if not F.ActionForm().validate_on_submit():
        abort(400)
    with state().db.write() as s:
        office = page_office(s)
        d = get_in_office(s, Device, did, office)
        before = device_snapshot(d)
        if d.revoked_at is None:
            d.revoked_at = clock.now()
            cs.apply(s, office, current_user.id, "device", d.name, "revoke", before, device_snapshot(d))
        name = d.name
    realtime.cut_revoked(current_app)
    return done(_("Đã thu hồi mã của thiết bị %(name)s.", name=name), ".devices", office)
