"""Counters (quầy): the list, and the editor with the fields each counter serves and their weights."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from manager import config_forms as F
from manager import config_service as cs
from manager.access import page_office
from manager.config.base import ROLES, bp, ctx, parse_week_or_list, refresh_estimates_on_commit, spans_text, spans_text_of
from manager.config.editor import Editor, Saved
from motcua.auth import login_required_page
from motcua.config import week_table
from motcua.models import Counter, CounterService, CounterStatus, Office, Service
from motcua.state import state


@bp.get("/counters")
@login_required_page(*ROLES)
def counters():
    with state().db.read() as s:
        office = page_office(s)
        rows = s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number)).all()
        for c in rows:
            c.services, c.clerk  # noqa: B018  load before the session closes
            for link in c.services:
                link.service  # noqa: B018  likewise
        return render_template("manager/config/counters.html", rows=rows, **ctx(s, office))


def _weights(s: Session, office: Office, c: Counter | None) -> list[tuple[str, str, str]]:
    """(code, name, weight as typed) of every field of the office."""
    current = {link.service.code: link.weight for link in c.services} if c else {}
    out = []
    for svc in s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id)):
        raw = request.form.get(f"weight-{svc.code}") if request.method == "POST" else current.get(svc.code)
        value = "" if raw in (None, "") else (f"{raw:g}" if isinstance(raw, float) else str(raw))
        out.append((svc.code, svc.name, value))
    return out


def _chosen_weights(s: Session, office: Office) -> dict[str, float]:
    chosen: dict[str, float] = {}
    for svc in s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id)):
        raw = (request.form.get(f"weight-{svc.code}") or "").strip().replace(",", ".")
        if raw:
            try:
                weight = float(raw)
            except ValueError:
                weight = 0.0
            if not weight > 0:  # words, zero, negatives and NaN alike
                raise cs.invalid(f"weight-{svc.code}", "Trọng số là một số lớn hơn 0, ví dụ 1 hoặc 1.5; để trống nếu quầy không phục vụ lĩnh vực này.",
                                 "The weight is a number above 0, e.g. 1 or 1.5; leave it empty if the counter does not serve this field.")
            chosen[svc.code] = weight
    return chosen


def _working_hours(office: Office) -> dict[str, list[str]]:
    return (office.settings or {}).get("working_hours") or {}


def _hours_text(hours: dict[str, list[str]] | None, working_hours: dict[str, list[str]]) -> str:
    """Stored hours as typed: one line when they are the same on every working day."""
    if not hours:
        return ""
    first = next(iter(hours.values()))
    return spans_text(first) if hours == week_table(first, working_hours) else spans_text_of(hours)


class CounterEditor(Editor):
    model, form_class, entity, list_endpoint = Counter, F.CounterForm, "counter", ".counters"

    def make_form(self, s: Session, office: Office, c: Counter | None) -> Any:
        form = super().make_form(s, office, c)
        # The column holds a table, the form text; a post without the input keeps the hours.
        if request.method == "GET" or "hours" not in request.form:
            form.hours.data = _hours_text(c.hours, _working_hours(office)) if c else ""
        return form

    def title(self, c: Counter | None) -> str:
        return _("Sửa %(name)s", name=c.label) if c else _("Thêm quầy")

    def context(self, s: Session, office: Office, c: Counter | None, form: Any) -> dict[str, Any]:
        return {"weights": _weights(s, office, c)}

    def write(self, s: Session, office: Office, form: Any, c: Counter | None) -> Saved:
        hours = parse_week_or_list(form.hours.data, "hours") or None
        cc = cs.check_counter({"number": form.number.data, "name": (form.name.data or "").strip(), "fields": _chosen_weights(s, office),
                               "hours": hours})
        other = s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.number == cc.number))
        if other is not None and other is not c:
            raise cs.invalid("number", f"Đã có quầy số {cc.number}", f"counter {cc.number} exists")
        active = bool(form.active.data)
        if c is not None and c.active and not active and (c.status != CounterStatus.closed or c.current_ticket_id):
            raise cs.invalid("active", f"Quầy {c.number} đang mở: cán bộ cần đóng quầy trước", f"counter {c.number} is open: close it first")
        if c is None:
            c = Counter(office_id=office.id, number=cc.number, status=CounterStatus.closed, priority_streak=0)
            s.add(c)
        c.number, c.name, c.active = cc.number, cc.name, active
        # Stored per weekday as the seed stores config.toml's (clock.spans_for reads a table).
        c.hours = week_table(cc.hours, _working_hours(office)) if cc.hours is not None else None
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
        refresh_estimates_on_commit(s, office.id)
        return Saved(c)

    def snapshot(self, c: Counter) -> dict[str, Any]:
        return {"number": c.number, "name": c.name, "active": c.active, "hours": c.hours,
                "fields": {link.service.code: link.weight for link in sorted(c.services, key=lambda x: x.service.code)}}

    def audit_id(self, c: Counter) -> int:
        return c.number

    def payload(self, s: Session, office: Office, c: Counter) -> dict[str, Any]:
        return cs.counter_payload(s, c)

    def message(self, form: Any, c: Counter) -> str:
        return _("Đã lưu quầy %(n)s.", n=form.number.data)


CounterEditor().register(bp, "/counters", "counter", "cid")
