"""Priority: the office's ratio and transfer rule, and the editor of priority groups."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from manager import config_forms as F
from manager import config_service as cs
from manager.access import page_office
from manager.config.base import ROLES, bp, ctx, done, show_errors
from manager.config.editor import Editor, Saved
from manager.config.settings import save_settings
from motcua.auth import login_required_page
from motcua.models import Office, PriorityGroup
from motcua.state import state

GROUP_KEYS = ("code", "name", "name_en", "active", "sort_order")


@bp.route("/priority", methods=["GET", "POST"])
@login_required_page(*ROLES)
def priority():
    db = state().db
    with db.read() as s:
        office = page_office(s)
        settings = office.settings or {}
        form = F.PriorityRatioForm(data={"priority_ratio": settings.get("priority_ratio", 2), "transfer_position": settings.get("transfer_position", "front")})
        groups = s.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id).order_by(PriorityGroup.sort_order, PriorityGroup.id)).all()
        if not form.validate_on_submit():
            return render_template("manager/config/priority.html", form=form, groups=groups, **ctx(s, office)), (422 if request.method == "POST" else 200)
    try:
        save_settings({"priority_ratio": form.priority_ratio.data, "transfer_position": form.transfer_position.data})
    except cs.Invalid as exc:
        show_errors(form, exc)
        with db.read() as s:
            office = page_office(s)
            groups = s.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id).order_by(PriorityGroup.sort_order)).all()
            return render_template("manager/config/priority.html", form=form, groups=groups, **ctx(s, office)), 422
    return done(_("Đã lưu cách ưu tiên."), ".priority", office)


class GroupEditor(Editor):
    model, form_class, entity, list_endpoint = PriorityGroup, F.PriorityGroupForm, "priority_group", ".priority"
    locked_on_edit = frozenset({"code"})

    def title(self, g: PriorityGroup | None) -> str:
        return _("Sửa nhóm ưu tiên %(name)s", name=g.name) if g else _("Thêm nhóm ưu tiên")

    def write(self, s: Session, office: Office, form: Any, g: PriorityGroup | None) -> Saved:
        code = g.code if g else form.code.data.strip()
        pc = cs.check_priority_group({"code": code, "name": form.name.data.strip(), "name_en": (form.name_en.data or "").strip()})
        if g is None and s.scalar(select(PriorityGroup.id).where(PriorityGroup.office_id == office.id, PriorityGroup.code == pc.code)):
            raise cs.invalid("code", f"Đã có nhóm {pc.code}", f"group {pc.code} exists")
        if g is None:
            g = PriorityGroup(office_id=office.id, code=pc.code)
            s.add(g)
        g.name, g.name_en, g.active, g.sort_order = pc.name, pc.name_en, bool(form.active.data), form.sort_order.data or 0
        return Saved(g)

    def snapshot(self, g: PriorityGroup) -> dict[str, Any]:
        return cs.snapshot_of(g, GROUP_KEYS)

    def audit_id(self, g: PriorityGroup) -> str:
        return g.code

    def message(self, form: Any, g: PriorityGroup) -> str:
        return _("Đã lưu nhóm ưu tiên %(name)s.", name=form.name.data)


GroupEditor().register(bp, "/priority", "group", "gid")
