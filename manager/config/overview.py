"""The configuration home (what the office has, its settings at a glance) and the audit log."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from manager.access import page_office
from manager.config.base import ROLES, bp, ctx, int_or_none
from manager.dashboard import thresholds
from motcua.auth import login_required_page
from motcua.engine import clock
from motcua.models import AuditLog, Counter, Device, Printer, PriorityGroup, Service, User
from motcua.state import state

AUDIT_PAGE = 50
ENTITY_NAMES = {
    "service": _l("Lĩnh vực"), "counter": _l("Quầy"), "priority_group": _l("Nhóm ưu tiên"), "printer": _l("Máy in"),
    "device": _l("Thiết bị"), "user": _l("Người dùng"), "settings": _l("Thiết lập đơn vị"),
}


@bp.get("/")
@login_required_page(*ROLES)
def index():
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
        return render_template("manager/config/index.html", counts=counts, settings=office.settings or {}, limits=thresholds(office), **ctx(s, office))


@bp.get("/audit")
@login_required_page(*ROLES)
def audit():
    page = max(int_or_none(request.args.get("page")) or 1, 1)
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
                               entity_names=ENTITY_NAMES, **ctx(s, office))
