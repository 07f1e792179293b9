"""Configuration pages (managers and admins): fields, counters, priority, printers, devices,
users, schedule, alerts, announcements, ratings, kiosk; and the audit log.

Every change is validated with config.toml's own rules, written with an AuditLog row and
announced as `config.updated` in the same transaction (manager.config_service.apply), so kiosks,
counters and displays see it at once without a restart.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from manager import config_forms as F
from manager import config_service as cs
from manager.access import page_office, visible_offices
from manager.dashboard import thresholds
from motcua import realtime
from motcua.app import state
from motcua.auth import login_required_page
from motcua.config import WEEKDAYS
from motcua.engine import clock
from motcua.models import (
    ApiToken,
    AuditLog,
    Counter,
    CounterService,
    CounterStatus,
    Device,
    DeviceKind,
    Office,
    Printer,
    PriorityGroup,
    Role,
    Service,
    User,
)
from motcua.security import hash_password, new_token, token_hash

bp = Blueprint("manager_config", __name__, url_prefix="/manager/config", template_folder="templates")
ROLES = (Role.manager, Role.admin)
AUDIT_PAGE = 50

FIELD_KEYS = ("code", "name", "name_en", "prefix", "start_number", "digits", "daily_quota", "service_minutes", "issuing_windows", "active", "sort_order")
GROUP_KEYS = ("code", "name", "name_en", "active", "sort_order")
PRINTER_KEYS = ("name", "connection", "target", "profile", "width_dots", "native_qr", "timeout", "active")
USER_KEYS = ("username", "full_name", "role", "counter", "active")


# ---- shared ----------------------------------------------------------------------------------


def _ctx(s: Session, office: Office, **kw: Any) -> dict[str, Any]:
    return {"office": office, "offices": [(o.code, o.name) for o in visible_offices(s)], "tz": clock.zone(office.timezone),
            "spans_hint": F.SPANS_HINT, **kw}


def _office_args(office: Office) -> dict[str, str]:
    return {"office": office.code} if current_user.office_id is None else {}


def _show_errors(form: Any, exc: cs.Invalid) -> None:
    for name, messages in exc.errors.items():
        target = getattr(form, name, None) if form is not None else None
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + messages
        else:
            form.form_errors.extend(f"{name}: {m}" for m in messages)


def _get(s: Session, model: Any, obj_id: int, office: Office) -> Any:
    obj = s.get(model, obj_id)
    if obj is None or obj.office_id != office.id:
        abort(404)
    return obj


def _render_form(s: Session, office: Office, title: str, form: Any, back: str, status: int = 200, **kw: Any):  # noqa: ANN202
    return render_template("manager/config/form.html", title=title, form=form, back=back, **_ctx(s, office, **kw)), status


def _done(message: str, endpoint: str, office: Office):  # noqa: ANN202
    flash(message)
    return redirect(url_for(endpoint, **_office_args(office)))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


@bp.app_template_filter("mgr_value")
def audit_value(value: Any) -> str:
    """A before/after value as people read it: 'KD: 1, XH: 2', '07:30-11:30, 13:30-17:30'."""
    if value is None:
        return "∅"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {audit_value(v)}" for k, v in value.items()) or "{}"
    if isinstance(value, list):
        return ", ".join(audit_value(v) for v in value) or "[]"
    return str(value)


@bp.app_template_filter("mgr_spans")
def spans_text(spans: list[str] | None) -> str:
    return ", ".join(spans or [])


# ---- index and audit ---------------------------------------------------------------------------


@bp.get("/")
@login_required_page(*ROLES)
def index():  # noqa: ANN201
    with state().db.read() as s:
        office = page_office(s)
        counts = {
            "fields": s.scalar(select(func.count()).select_from(Service).where(Service.office_id == office.id)),
            "counters": s.scalar(select(func.count()).select_from(Counter).where(Counter.office_id == office.id)),
            "groups": s.scalar(select(func.count()).select_from(PriorityGroup).where(PriorityGroup.office_id == office.id)),
            "printers": s.scalar(select(func.count()).select_from(Printer).where(Printer.office_id == office.id)),
            "devices": s.scalar(select(func.count()).select_from(Device).where(Device.office_id == office.id)),
            "users": s.scalar(select(func.count()).select_from(User).where(User.office_id == office.id)),
        }
        return render_template("manager/config/index.html", counts=counts, settings=office.settings or {}, limits=thresholds(office), **_ctx(s, office))


ENTITY_NAMES = {
    "service": _l("Lĩnh vực"), "counter": _l("Quầy"), "priority_group": _l("Nhóm ưu tiên"), "printer": _l("Máy in"),
    "device": _l("Thiết bị"), "user": _l("Người dùng"), "settings": _l("Thiết lập đơn vị"),
}


@bp.get("/audit")
@login_required_page(*ROLES)
def audit():  # noqa: ANN201
    page = max(_int_or_none(request.args.get("page")) or 1, 1)
    entity = request.args.get("entity") or None
    with state().db.read() as s:
        office = page_office(s)
        q = select(AuditLog, User).outerjoin(User, User.id == AuditLog.user_id).where(AuditLog.office_id == office.id)
        if entity:
            q = q.where(AuditLog.entity == entity)
        total = s.scalar(select(func.count()).select_from(q.subquery()))
        rows = s.execute(q.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(AUDIT_PAGE).offset((page - 1) * AUDIT_PAGE)).all()
        entries = [
            {
                "at": clock.local(a.at, office.timezone), "who": (u.full_name or u.username) if u else "—", "username": u.username if u else None,
                "entity": a.entity, "entity_id": a.entity_id, "action": a.action, "changes": a.changes or {},
            }
            for a, u in rows
        ]
        pages = max((total + AUDIT_PAGE - 1) // AUDIT_PAGE, 1)
        return render_template("manager/config/audit.html", entries=entries, page=page, pages=pages, entity=entity,
                               entity_names=ENTITY_NAMES, **_ctx(s, office))


# ---- fields ----------------------------------------------------------------------------------


@bp.get("/fields")
@login_required_page(*ROLES)
def fields():  # noqa: ANN201
    with state().db.read() as s:
        office = page_office(s)
        rows = s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id)).all()
        return render_template("manager/config/fields.html", rows=rows, **_ctx(s, office))


def _field_windows_form(svc: Service | None) -> Any:
    form = F.FieldWindowsForm(prefix="")
    if request.method == "GET" and svc is not None and svc.issuing_windows:
        for d in WEEKDAYS:
            getattr(form, f"win_{d}").data = spans_text(svc.issuing_windows.get(d))
    return form


@bp.route("/fields/new", methods=["GET", "POST"], endpoint="field_new")
@bp.route("/fields/<int:sid>", methods=["GET", "POST"])
@login_required_page(*ROLES)
def field_edit(sid: int | None = None):  # noqa: ANN201
    db = state().db
    with db.read() as s:
        office = page_office(s)
        svc = _get(s, Service, sid, office) if sid else None
        form = F.FieldForm(obj=svc) if svc else F.FieldForm()
        if svc and request.method == "GET":
            form.start.data = svc.start_number
            form.own_windows.data = svc.issuing_windows is not None
        windows = _field_windows_form(svc)
        title = _("Sửa lĩnh vực %(name)s", name=svc.name) if svc else _("Thêm lĩnh vực")
        back = url_for(".fields", **_office_args(office))
        if not form.validate_on_submit():
            return _render_form(s, office, title, form, back, 422 if request.method == "POST" else 200, windows=windows, locked={"code"} if svc else set())
    try:
        with db.write() as s:
            office = page_office(s)
            svc = _get(s, Service, sid, office) if sid else None
            code = svc.code if svc else form.code.data.strip()
            windows_value = cs.parse_week(request.form, "win_") if form.own_windows.data else None
            fc = cs.check_field({
                "code": code, "name": form.name.data.strip(), "name_en": (form.name_en.data or "").strip(),
                "prefix": (form.prefix.data or "").strip().upper(), "start": form.start.data, "digits": form.digits.data,
                "daily_quota": form.daily_quota.data, "service_minutes": form.service_minutes.data, "issuing_windows": windows_value,
            })
            if svc is None and s.scalar(select(Service.id).where(Service.office_id == office.id, Service.code == fc.code)):
                raise cs.invalid("code", f"Đã có lĩnh vực mã {fc.code}", f"field {fc.code} exists")
            cs.check_unique_series(s, office, fc.prefix, fc.start, svc.id if svc else None)
            before = cs.snapshot_of(svc, FIELD_KEYS) if svc else {}
            if svc is None:
                svc = Service(office_id=office.id, code=fc.code)
                s.add(svc)
            svc.name, svc.name_en, svc.prefix, svc.start_number, svc.digits = fc.name, fc.name_en, fc.prefix, fc.start, fc.digits
            svc.daily_quota, svc.service_minutes = fc.daily_quota, fc.service_minutes
            svc.issuing_windows = {d: list(v) for d, v in fc.issuing_windows.items()} if fc.issuing_windows is not None else None
            svc.active, svc.sort_order = bool(form.active.data), form.sort_order.data or 0
            s.flush()
            cs.apply(s, office, current_user.id, "service", svc.code, "update" if before else "create", before,
                     cs.snapshot_of(svc, FIELD_KEYS), data=cs.service_payload(s, office, svc))
    except cs.Invalid as exc:
        _show_errors(form, exc)
        with db.read() as s:
            office = page_office(s)
            return _render_form(s, office, title, form, back, 422, windows=windows, locked={"code"} if sid else set())
    return _done(_("Đã lưu lĩnh vực %(name)s.", name=form.name.data), ".fields", office)


# ---- counters --------------------------------------------------------------------------------


@bp.get("/counters")
@login_required_page(*ROLES)
def counters():  # noqa: ANN201
    with state().db.read() as s:
        office = page_office(s)
        rows = s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number)).all()
        for c in rows:
            c.services, c.clerk  # noqa: B018  load before the session closes
            for link in c.services:
                link.service  # noqa: B018
        return render_template("manager/config/counters.html", rows=rows, **_ctx(s, office))


def _counter_weights(s: Session, office: Office, c: Counter | None) -> list[tuple[str, str, str]]:
    current = {link.service.code: link.weight for link in c.services} if c else {}
    out = []
    for svc in s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id)):
        raw = request.form.get(f"weight-{svc.code}") if request.method == "POST" else current.get(svc.code)
        value = "" if raw in (None, "") else (f"{raw:g}" if isinstance(raw, float) else str(raw))
        out.append((svc.code, svc.name, value))
    return out


def _counter_snapshot(c: Counter) -> dict[str, Any]:
    return {"number": c.number, "name": c.name, "active": c.active,
            "fields": {link.service.code: link.weight for link in sorted(c.services, key=lambda x: x.service.code)}}


@bp.route("/counters/new", methods=["GET", "POST"], endpoint="counter_new")
@bp.route("/counters/<int:cid>", methods=["GET", "POST"])
@login_required_page(*ROLES)
def counter_edit(cid: int | None = None):  # noqa: ANN201
    db = state().db
    with db.read() as s:
        office = page_office(s)
        c = _get(s, Counter, cid, office) if cid else None
        form = F.CounterForm(obj=c) if c else F.CounterForm()
        weights = _counter_weights(s, office, c)
        title = _("Sửa %(name)s", name=c.label) if c else _("Thêm quầy")
        back = url_for(".counters", **_office_args(office))
        if not form.validate_on_submit():
            return _render_form(s, office, title, form, back, 422 if request.method == "POST" else 200, weights=weights)
    try:
        with db.write() as s:
            office = page_office(s)
            c = _get(s, Counter, cid, office) if cid else None
            chosen: dict[str, float] = {}
            for code, _name, _v in weights:
                raw = (request.form.get(f"weight-{code}") or "").strip().replace(",", ".")
                if raw:
                    try:
                        chosen[code] = float(raw)
                    except ValueError:
                        raise cs.invalid("fields", f"Trọng số của {code} phải là số", f"the weight of {code} must be a number") from None
            cc = cs.check_counter({"number": form.number.data, "name": (form.name.data or "").strip(), "fields": chosen})
            other = s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == cc.number))
            if other is not None and other is not c:
                raise cs.invalid("number", f"Đã có quầy số {cc.number}", f"counter {cc.number} exists")
            active = bool(form.active.data)
            if c is not None and c.active and not active and (c.status != CounterStatus.closed or c.current_ticket_id):
                raise cs.invalid("active", f"Quầy {c.number} đang mở: cán bộ cần đóng quầy trước", f"counter {c.number} is open: close it first")
            before = _counter_snapshot(c) if c else {}
            if c is None:
                c = Counter(office_id=office.id, number=cc.number, status=CounterStatus.closed, priority_streak=0)
                s.add(c)
            c.number, c.name, c.active = cc.number, cc.name, active
            services = {svc.code: svc for svc in s.scalars(select(Service).where(Service.office_id == office.id))}
            links = {link.service.code: link for link in c.services}
            for code, link in links.items():
                if code not in cc.fields:
                    c.services.remove(link)
            for code, weight in cc.fields.items():
                if code in links:
                    links[code].weight = weight
                else:
                    c.services.append(CounterService(service_id=services[code].id, weight=weight, service=services[code]))
            s.flush()
            cs.apply(s, office, current_user.id, "counter", c.number, "update" if before else "create", before, _counter_snapshot(c),
                     data=cs.counter_payload(s, c))
    except cs.Invalid as exc:
        _show_errors(form, exc)
        with db.read() as s:
            office = page_office(s)
            return _render_form(s, office, title, form, back, 422, weights=weights)
    return _done(_("Đã lưu quầy %(n)s.", n=form.number.data), ".counters", office)


# ---- priority --------------------------------------------------------------------------------


@bp.route("/priority", methods=["GET", "POST"])
@login_required_page(*ROLES)
def priority():  # noqa: ANN201
    db = state().db
    with db.read() as s:
        office = page_office(s)
        settings = office.settings or {}
        form = F.PriorityRatioForm(data={"priority_ratio": settings.get("priority_ratio", 2), "transfer_position": settings.get("transfer_position", "front")})
        groups = s.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id).order_by(PriorityGroup.sort_order, PriorityGroup.id)).all()
        if not form.validate_on_submit():
            return render_template("manager/config/priority.html", form=form, groups=groups, **_ctx(s, office)), (422 if request.method == "POST" else 200)
    try:
        _save_settings(form, {"priority_ratio": form.priority_ratio.data, "transfer_position": form.transfer_position.data})
    except cs.Invalid as exc:
        _show_errors(form, exc)
        with db.read() as s:
            office = page_office(s)
            groups = s.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id).order_by(PriorityGroup.sort_order)).all()
            return render_template("manager/config/priority.html", form=form, groups=groups, **_ctx(s, office)), 422
    return _done(_("Đã lưu cách ưu tiên."), ".priority", office)


@bp.route("/priority/new", methods=["GET", "POST"], endpoint="group_new")
@bp.route("/priority/<int:gid>", methods=["GET", "POST"])
@login_required_page(*ROLES)
def group_edit(gid: int | None = None):  # noqa: ANN201
    db = state().db
    with db.read() as s:
        office = page_office(s)
        g = _get(s, PriorityGroup, gid, office) if gid else None
        form = F.PriorityGroupForm(obj=g) if g else F.PriorityGroupForm()
        title = _("Sửa nhóm ưu tiên %(name)s", name=g.name) if g else _("Thêm nhóm ưu tiên")
        back = url_for(".priority", **_office_args(office))
        if not form.validate_on_submit():
            return _render_form(s, office, title, form, back, 422 if request.method == "POST" else 200, locked={"code"} if g else set())
    try:
        with db.write() as s:
            office = page_office(s)
            g = _get(s, PriorityGroup, gid, office) if gid else None
            code = g.code if g else form.code.data.strip()
            pc = cs.check_priority_group({"code": code, "name": form.name.data.strip(), "name_en": (form.name_en.data or "").strip()})
            if g is None and s.scalar(select(PriorityGroup.id).where(PriorityGroup.office_id == office.id, PriorityGroup.code == pc.code)):
                raise cs.invalid("code", f"Đã có nhóm {pc.code}", f"group {pc.code} exists")
            before = cs.snapshot_of(g, GROUP_KEYS) if g else {}
            if g is None:
                g = PriorityGroup(office_id=office.id, code=pc.code)
                s.add(g)
            g.name, g.name_en, g.active, g.sort_order = pc.name, pc.name_en, bool(form.active.data), form.sort_order.data or 0
            s.flush()
            cs.apply(s, office, current_user.id, "priority_group", g.code, "update" if before else "create", before, cs.snapshot_of(g, GROUP_KEYS))
    except cs.Invalid as exc:
        _show_errors(form, exc)
        with db.read() as s:
            office = page_office(s)
            return _render_form(s, office, title, form, back, 422, locked={"code"} if gid else set())
    return _done(_("Đã lưu nhóm ưu tiên %(name)s.", name=form.name.data), ".priority", office)


# ---- printers --------------------------------------------------------------------------------


@bp.get("/printers")
@login_required_page(*ROLES)
def printers():  # noqa: ANN201
    with state().db.read() as s:
        office = page_office(s)
        rows = s.scalars(select(Printer).where(Printer.office_id == office.id).order_by(Printer.name)).all()
        return render_template("manager/config/printers.html", rows=rows, **_ctx(s, office))


@bp.route("/printers/new", methods=["GET", "POST"], endpoint="printer_new")
@bp.route("/printers/<int:pid>", methods=["GET", "POST"])
@login_required_page(*ROLES)
def printer_edit(pid: int | None = None):  # noqa: ANN201
    db = state().db
    with db.read() as s:
        office = page_office(s)
        p = _get(s, Printer, pid, office) if pid else None
        form = F.PrinterForm(obj=p) if p else F.PrinterForm()
        if p and request.method == "GET":
            form.width_dots.data = str(p.width_dots)
        title = _("Sửa máy in %(name)s", name=p.name) if p else _("Thêm máy in")
        back = url_for(".printers", **_office_args(office))
        if not form.validate_on_submit():
            return _render_form(s, office, title, form, back, 422 if request.method == "POST" else 200)
    try:
        with db.write() as s:
            office = page_office(s)
            p = _get(s, Printer, pid, office) if pid else None
            pc = cs.check_printer({
                "name": form.name.data.strip(), "connection": form.connection.data, "target": (form.target.data or "").strip(),
                "profile": (form.profile.data or "default").strip() or "default", "width_dots": int(form.width_dots.data),
                "native_qr": bool(form.native_qr.data), "timeout": form.timeout.data,
            })
            other = s.scalar(select(Printer).where(Printer.office_id == office.id, Printer.name == pc.name))
            if other is not None and other is not p:
                raise cs.invalid("name", f"Đã có máy in {pc.name}", f"printer {pc.name} exists")
            before = cs.snapshot_of(p, PRINTER_KEYS) if p else {}
            if p is None:
                p = Printer(office_id=office.id, name=pc.name)
                s.add(p)
            for k, v in pc.model_dump().items():
                setattr(p, k, v)
            p.active = bool(form.active.data)
            s.flush()
            cs.apply(s, office, current_user.id, "printer", p.name, "update" if before else "create", before, cs.snapshot_of(p, PRINTER_KEYS))
    except cs.Invalid as exc:
        _show_errors(form, exc)
        with db.read() as s:
            office = page_office(s)
            return _render_form(s, office, title, form, back, 422)
    return _done(_("Đã lưu máy in %(name)s.", name=form.name.data), ".printers", office)


# ---- devices ---------------------------------------------------------------------------------


def _device_snapshot(d: Device) -> dict[str, Any]:
    return {
        "name": d.name, "kind": d.kind.value,
        "counter": d.counter.number if d.counter else None,
        "printer": d.printer.name if d.printer else None,
        "backup_printer": d.backup_printer.name if d.backup_printer else None,
        "token": "revoked" if d.revoked_at else ("active" if d.token_hash else "none"),
    }


def _device_choices(s: Session, office: Office, form: Any) -> None:
    none = [("", _("(không)"))]
    counters_ = [(str(c.number), c.label) for c in s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number))]
    printers_ = [(p.name, p.name) for p in s.scalars(select(Printer).where(Printer.office_id == office.id).order_by(Printer.name))]
    form.counter.choices = F.choices(none + counters_)
    form.printer.choices = F.choices(none + printers_)
    form.backup_printer.choices = F.choices(none + printers_)


def device_page_url(d: Device, token: str) -> str:
    from motcua.cli import DEVICE_PAGES

    path = DEVICE_PAGES[d.kind][2]
    base = state().settings.get("public_url") or request.host_url
    return f"{base.rstrip('/')}{path}?token={token}"


@bp.get("/devices")
@login_required_page(*ROLES)
def devices():  # noqa: ANN201
    with state().db.read() as s:
        office = page_office(s)
        rows = s.scalars(select(Device).where(Device.office_id == office.id).order_by(Device.kind, Device.name)).all()
        for d in rows:
            d.counter, d.printer, d.backup_printer  # noqa: B018
        return render_template("manager/config/devices.html", rows=rows, action=F.ActionForm(), **_ctx(s, office))


def _show_secret(s: Session, office: Office, title: str, secret: str, note: str, url: str | None = None):  # noqa: ANN202
    resp = render_template("manager/config/secret.html", title=title, secret=secret, note=note, url=url,
                           back=url_for(".devices" if url else ".users", **_office_args(office)), **_ctx(s, office))
    return resp, 200, {"Cache-Control": "no-store"}


@bp.route("/devices/new", methods=["GET", "POST"], endpoint="device_new")
@bp.route("/devices/<int:did>", methods=["GET", "POST"])
@login_required_page(*ROLES)
def device_edit(did: int | None = None):  # noqa: ANN201
    db = state().db
    with db.read() as s:
        office = page_office(s)
        d = _get(s, Device, did, office) if did else None
        form = F.DeviceForm(obj=d) if d else F.DeviceForm()
        _device_choices(s, office, form)
        if d and request.method == "GET":
            form.kind.data = d.kind.value
            form.counter.data = str(d.counter.number) if d.counter else ""
            form.printer.data = d.printer.name if d.printer else ""
            form.backup_printer.data = d.backup_printer.name if d.backup_printer else ""
        title = _("Sửa thiết bị %(name)s", name=d.name) if d else _("Thêm thiết bị")
        back = url_for(".devices", **_office_args(office))
        if not form.validate_on_submit():
            return _render_form(s, office, title, form, back, 422 if request.method == "POST" else 200)
    token = None
    try:
        with db.write() as s:
            office = page_office(s)
            d = _get(s, Device, did, office) if did else None
            dc = cs.check_device({
                "name": form.name.data.strip(), "kind": form.kind.data, "printer": form.printer.data or None,
                "backup_printer": form.backup_printer.data or None, "counter": _int_or_none(form.counter.data),
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
            before = _device_snapshot(d) if d else {}
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
            cs.apply(s, office, current_user.id, "device", d.name, "update" if before else "create", before, _device_snapshot(d))
            if token:
                url = device_page_url(d, token)
                name = d.name
    except cs.Invalid as exc:
        _show_errors(form, exc)
        with db.read() as s:
            office = page_office(s)
            _device_choices(s, office, form)
            return _render_form(s, office, title, form, back, 422)
    if token:
        with db.read() as s:
            office = page_office(s)
            return _show_secret(s, office, _("Mã của thiết bị %(name)s", name=name), token,
                                _("Mã chỉ hiện một lần. Nhập vào thiết bị hoặc mở địa chỉ dưới đây trên thiết bị."), url)
    return _done(_("Đã lưu thiết bị %(name)s.", name=form.name.data), ".devices", office)


@bp.post("/devices/<int:did>/token")
@login_required_page(*ROLES)
def device_token(did: int):  # noqa: ANN201
    """A new token (the old one stops working at once), shown once."""
    if not F.ActionForm().validate_on_submit():
        abort(400)
    db = state().db
    token = new_token("dev")
    with db.write() as s:
        office = page_office(s)
        d = _get(s, Device, did, office)
        before = _device_snapshot(d)
        d.token_hash, d.revoked_at = token_hash(token), None
        s.flush()
        cs.apply(s, office, current_user.id, "device", d.name, "token_issued", before, {**_device_snapshot(d), "token": "new"})
        url, name = device_page_url(d, token), d.name
    realtime.cut_revoked(current_app)  # the screen reopens with its new token
    with db.read() as s:
        office = page_office(s)
        return _show_secret(s, office, _("Mã mới của thiết bị %(name)s", name=name), token,
                            _("Mã cũ đã hết hiệu lực. Mã mới chỉ hiện một lần."), url)


@bp.post("/devices/<int:did>/revoke")
@login_required_page(*ROLES)
def device_revoke(did: int):  # noqa: ANN201
    if not F.ActionForm().validate_on_submit():
        abort(400)
    with state().db.write() as s:
        office = page_office(s)
        d = _get(s, Device, did, office)
        before = _device_snapshot(d)
        if d.revoked_at is None:
            d.revoked_at = clock.now()
            cs.apply(s, office, current_user.id, "device", d.name, "revoke", before, _device_snapshot(d))
        name = d.name
    realtime.cut_revoked(current_app)
    return _done(_("Đã thu hồi mã của thiết bị %(name)s.", name=name), ".devices", office)


# ---- users -----------------------------------------------------------------------------------


def _may_edit(user: User | None) -> bool:
    """Managers manage clerks and managers of their office; admins everyone they see."""
    if user is None:
        return True
    if current_user.role == Role.admin:
        return current_user.office_id is None or user.office_id == current_user.office_id
    return user.role != Role.admin and user.office_id == current_user.office_id


def _user_snapshot(u: User) -> dict[str, Any]:
    return {"username": u.username, "full_name": u.full_name, "role": u.role.value, "counter": u.counter.number if u.counter else None, "active": u.active}


def _user_choices(s: Session, office: Office, form: Any) -> None:
    form.counter.choices = F.choices([("", _("(không)"))] + [
        (str(c.number), c.label) for c in s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number))
    ])
    if current_user.role != Role.admin:
        form.role.choices = [c for c in form.role.choices if c.value != "admin"]


@bp.get("/users")
@login_required_page(*ROLES)
def users():  # noqa: ANN201
    with state().db.read() as s:
        office = page_office(s)
        q = select(User).where(User.office_id == office.id)
        rows = list(s.scalars(q.order_by(User.role, User.username)))
        if current_user.role == Role.admin:
            rows += list(s.scalars(select(User).where(User.office_id.is_(None)).order_by(User.username)))
        for u in rows:
            u.counter  # noqa: B018
        return render_template("manager/config/users.html", rows=rows, may_edit=_may_edit, action=F.ActionForm(), **_ctx(s, office))


@bp.route("/users/new", methods=["GET", "POST"], endpoint="user_new")
@bp.route("/users/<int:uid>", methods=["GET", "POST"])
@login_required_page(*ROLES)
def user_edit(uid: int | None = None):  # noqa: ANN201
    db = state().db
    with db.read() as s:
        office = page_office(s)
        u = s.get(User, uid) if uid else None
        if uid and (u is None or not _may_edit(u) or (u.office_id not in (office.id, None))):
            abort(404 if u is None else 403)
        form = F.UserForm(obj=u) if u else F.UserForm()
        _user_choices(s, office, form)
        if u and request.method == "GET":
            form.role.data = u.role.value
            form.counter.data = str(u.counter.number) if u.counter else ""
        title = _("Sửa người dùng %(name)s", name=u.username) if u else _("Thêm người dùng")
        back = url_for(".users", **_office_args(office))
        if not form.validate_on_submit():
            return _render_form(s, office, title, form, back, 422 if request.method == "POST" else 200, locked={"username"} if u else set())
    generated = None
    try:
        with db.write() as s:
            office = page_office(s)
            u = s.get(User, uid) if uid else None
            role = Role(form.role.data)
            if role == Role.admin and current_user.role != Role.admin:
                raise cs.invalid("role", "Chỉ quản trị viên mới tạo được quản trị viên", "only admins can make admins")
            username = u.username if u else form.username.data.strip()
            password = form.password.data or None
            cs.check_user_fields(s, None if u else username, password, u.id if u else None)
            if u is not None and u.id == current_user.id and (role != u.role or not form.active.data):
                raise cs.invalid("role", "Không thể tự đổi vai trò hoặc tự khóa tài khoản của mình", "you cannot change your own role or deactivate yourself")
            number = _int_or_none(form.counter.data)
            counter = s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == number)) if number else None
            before = _user_snapshot(u) if u else {}
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
            after = _user_snapshot(u)
            if password and before:
                before["password"], after["password"] = None, cs.CHANGED  # logged as changed, never shown
            cs.apply(s, office, current_user.id, "user", u.username, "update" if before else "create", before, after)
            name = u.username
    except cs.Invalid as exc:
        _show_errors(form, exc)
        with db.read() as s:
            office = page_office(s)
            _user_choices(s, office, form)
            return _render_form(s, office, title, form, back, 422, locked={"username"} if uid else set())
    realtime.cut_revoked(current_app)  # a deactivated user's open pages and tokens stop at once
    if generated:
        with db.read() as s:
            office = page_office(s)
            return _show_secret(s, office, _("Mật khẩu của %(name)s", name=name), generated,
                                _("Mật khẩu chỉ hiện một lần: đưa cho người dùng và đề nghị đổi khi cần."))
    return _done(_("Đã lưu người dùng %(name)s.", name=name), ".users", office)


@bp.post("/users/<int:uid>/password")
@login_required_page(*ROLES)
def user_password(uid: int):  # noqa: ANN201
    """A new random password, shown once; the user's API tokens keep working."""
    if not F.ActionForm().validate_on_submit():
        abort(400)
    db = state().db
    password = secrets.token_urlsafe(9)
    with db.write() as s:
        office = page_office(s)
        u = s.get(User, uid)
        if u is None or u.office_id not in (office.id, None) or not _may_edit(u):
            abort(404 if u is None else 403)
        u.password_hash = hash_password(password)
        cs.apply(s, office, current_user.id, "user", u.username, "reset_password", {"password": None}, {"password": cs.CHANGED})
        name = u.username
    with db.read() as s:
        office = page_office(s)
        return _show_secret(s, office, _("Mật khẩu mới của %(name)s", name=name), password,
                            _("Mật khẩu cũ đã hết hiệu lực. Mật khẩu mới chỉ hiện một lần."))


@bp.post("/users/<int:uid>/tokens/revoke")
@login_required_page(*ROLES)
def user_tokens_revoke(uid: int):  # noqa: ANN201
    """Revoke every API token of the user (a lost laptop, a script that leaked)."""
    if not F.ActionForm().validate_on_submit():
        abort(400)
    with state().db.write() as s:
        office = page_office(s)
        u = s.get(User, uid)
        if u is None or u.office_id not in (office.id, None) or not _may_edit(u):
            abort(404 if u is None else 403)
        live = s.scalars(select(ApiToken).where(ApiToken.user_id == u.id, ApiToken.revoked_at.is_(None))).all()
        for t in live:
            t.revoked_at = clock.now()
        if live:
            cs.apply(s, office, current_user.id, "user", u.username, "revoke_tokens", {"api_tokens": len(live)}, {"api_tokens": 0})
        name = u.username
    realtime.cut_revoked(current_app)
    return _done(_("Đã thu hồi mã API của %(name)s.", name=name), ".users", office)


# ---- office settings -------------------------------------------------------------------------


def _save_settings(form: Any, updates: dict[str, Any]) -> None:
    with state().db.write() as s:
        office = page_office(s)
        clean = cs.check_settings(office, updates)
        current = dict(office.settings or {})
        before = {k: current.get(k) for k in clean}
        office.settings = {**current, **clean}  # a new dict: the JSON column sees the change
        s.flush()
        cs.apply(s, office, current_user.id, "settings", office.code, "update", before, clean)


def _settings_page(form: Any, title: str, updates: Any, intro: str | None = None, **extra: Any):  # noqa: ANN202
    """GET shows the form; POST validates, saves and redirects back."""
    db = state().db
    with db.read() as s:
        office = page_office(s)
        back = url_for(".index", **_office_args(office))
        if form.validate_on_submit():
            try:
                _save_settings(form, updates(office))
                return _done(_("Đã lưu. Thay đổi có hiệu lực ngay."), request.endpoint, office)
            except cs.Invalid as exc:
                _show_errors(form, exc)
        status = 422 if request.method == "POST" else 200
        return _render_form(s, office, title, form, back, status, intro=intro, **{k: (v(s, office) if callable(v) else v) for k, v in extra.items()})


@bp.route("/schedule", methods=["GET", "POST"])
@login_required_page(*ROLES)
def schedule():  # noqa: ANN201
    with state().db.read() as s:
        settings = page_office(s).settings or {}
    data = {"holidays": "\n".join(_vn(d) for d in settings.get("holidays", []))}
    for d in WEEKDAYS:
        data[f"work_{d}"] = spans_text((settings.get("working_hours") or {}).get(d))
        data[f"issue_{d}"] = spans_text((settings.get("issuing_windows") or {}).get(d))
    form = F.ScheduleForm(data=data if request.method == "GET" else None)

    def updates(office: Office) -> dict[str, Any]:
        work = cs.parse_week(request.form, "work_")
        issue = cs.parse_week(request.form, "issue_")
        # A week left all blank means "no windows": tickets all day (as when config.toml has none).
        return {
            "working_hours": work if any(work.values()) else {},
            "issuing_windows": issue if any(issue.values()) else {},
            "holidays": cs.parse_holidays(request.form.get("holidays", "")),
        }

    return _settings_page(form, _("Giờ làm việc, giờ lấy số và ngày nghỉ"), updates,
                          _("Giờ lấy số để trống cả tuần: kiosk cấp số cả ngày. Một ngày để trống: không cấp số ngày đó."),
                          groups=[(_("Giờ làm việc (hiển thị cho công dân)"), "work_"), (_("Giờ lấy số (kiosk cấp số)"), "issue_")])


def _vn(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


@bp.route("/alerts", methods=["GET", "POST"])
@login_required_page(*ROLES)
def alerts():  # noqa: ANN201
    with state().db.read() as s:
        office = page_office(s)
        limits = thresholds(office)
        services = [(svc.code, svc.name) for svc in s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id))]
    form = F.AlertsForm(data={k: limits[k] for k in ("wait_alert_minutes", "device_offline_minutes", "printer_failure_minutes")} if request.method == "GET" else None)

    def field_alerts(_s: Session, _office: Office) -> list[tuple[str, str, str]]:
        current = limits["field_wait_alert_minutes"]
        return [(code, name, request.form.get(f"field-alert-{code}", "") if request.method == "POST" else str(current.get(code, "")))
                for code, name in services]

    def updates(office: Office) -> dict[str, Any]:
        per_field: dict[str, int] = {}
        for code, _name in services:
            raw = (request.form.get(f"field-alert-{code}") or "").strip()
            if raw:
                value = _int_or_none(raw)
                if value is None or value < 1:
                    raise cs.invalid("wait_alert_minutes", f"Ngưỡng của {code} phải là số phút ≥ 1", f"the threshold of {code} must be ≥ 1 minute")
                per_field[code] = value
        return {"wait_alert_minutes": form.wait_alert_minutes.data, "device_offline_minutes": form.device_offline_minutes.data,
                "printer_failure_minutes": form.printer_failure_minutes.data, "field_wait_alert_minutes": per_field}

    return _settings_page(form, _("Ngưỡng cảnh báo"), updates, field_alerts=field_alerts)


@bp.route("/announcements", methods=["GET", "POST"])
@login_required_page(*ROLES)
def announcements():  # noqa: ANN201
    with state().db.read() as s:
        settings = page_office(s).settings or {}
    form = F.AnnouncementForm(data={"announcement_template": settings.get("announcement_template", ""),
                                    "announcement_repeat": settings.get("announcement_repeat", 2)} if request.method == "GET" else None)

    def updates(office: Office) -> dict[str, Any]:
        template = form.announcement_template.data.strip()
        try:
            template.format(number="1005", counter=3)
        except (KeyError, IndexError, ValueError):
            raise cs.invalid("announcement_template", "Chỉ dùng {number} và {counter} trong câu mời",
                             "use only {number} and {counter} in the template") from None
        if "{number}" not in template:
            raise cs.invalid("announcement_template", "Câu mời phải có {number}", "the template needs {number}")
        return {"announcement_template": template, "announcement_repeat": form.announcement_repeat.data}

    return _settings_page(form, _("Lời mời trên loa"), updates, _("Ví dụ: Xin mời công dân có số thứ tự {number} đến quầy số {counter}"))


@bp.route("/ratings", methods=["GET", "POST"])
@login_required_page(*ROLES)
def ratings():  # noqa: ANN201
    from motcua.engine.ratings import DEFAULT_SCALE, DEFAULT_SCALE_EN

    with state().db.read() as s:
        settings = page_office(s).settings or {}
    form = F.RatingForm(data={
        "rating_scale": "\n".join(settings.get("rating_scale") or DEFAULT_SCALE),
        "rating_scale_en": "\n".join(settings.get("rating_scale_en") or DEFAULT_SCALE_EN),
        "rating_low_count": settings.get("rating_low_count", 1), "rating_seconds": settings.get("rating_seconds", 30),
    } if request.method == "GET" else None)

    def lines(text: str) -> list[str]:
        return [line.strip() for line in (text or "").splitlines() if line.strip()]

    def updates(office: Office) -> dict[str, Any]:
        return {"rating_scale": lines(form.rating_scale.data), "rating_scale_en": lines(form.rating_scale_en.data),
                "rating_low_count": form.rating_low_count.data, "rating_seconds": form.rating_seconds.data}

    return _settings_page(form, _("Đánh giá hài lòng"), updates,
                          _("Mức 1 là tốt nhất. Báo cáo tính “hài lòng” là nửa tốt của thang (4 hoặc 5 mức: hai mức đầu)."))


@bp.route("/kiosk", methods=["GET", "POST"])
@login_required_page(*ROLES)
def kiosk():  # noqa: ANN201
    with state().db.read() as s:
        settings = page_office(s).settings or {}
    form = F.KioskForm(data={"kiosk_reset_seconds": settings.get("kiosk_reset_seconds", 20),
                             "print_max_age_seconds": settings.get("print_max_age_seconds", 60)} if request.method == "GET" else None)
    return _settings_page(form, _("Kiosk và in phiếu"), lambda office: {
        "kiosk_reset_seconds": form.kiosk_reset_seconds.data, "print_max_age_seconds": form.print_max_age_seconds.data})


def _shared_helpers() -> dict[str, Any]:
    from manager.views import _helpers

    return _helpers()


bp.context_processor(_shared_helpers)
