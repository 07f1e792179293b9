"""What every configuration page shares: the blueprint, who may use it, the page context, and
the small answers (the form again with its errors, a redirect with a message, a secret shown
once)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from manager import config_forms as F
from manager import config_service as cs
from manager.access import visible_offices
from motcua.config import WEEKDAYS
from motcua.engine import clock, estimates
from motcua.models import Office, Role

# The templates stay in the room's folder, beside the other manager pages.
bp = Blueprint("manager_config", __name__, url_prefix="/manager/config", template_folder=str(Path(__file__).parent.parent / "templates"))
ROLES = (Role.manager, Role.admin)
SECTIONS = ("fields",)  # a part of a form page that is not one input
SECTION_PREFIXES = ("weight-", "field-alert-")


def ctx(s: Session, office: Office, **kw: Any) -> dict[str, Any]:
    return {"office": office, "offices": [(o.code, o.name) for o in visible_offices(s)], "tz": clock.zone(office.timezone),
            "spans_hint": F.SPANS_HINT, **kw}


def office_args(office: Office) -> dict[str, str]:
    return {"office": office.code} if current_user.office_id is None else {}


def show_errors(form: Any, exc: cs.Invalid, *others: Any) -> None:
    """Each message under its own input: an input of the form or of the page's other forms (a
    field's own windows); a part of the page that is not a form input (a counter's weights
    "weight-<code>" or all of them "fields", a field's alert "field-alert-<code>") finds its
    messages in `form.section_errors`; the rest are shown at the top of the form."""
    form.section_errors = getattr(form, "section_errors", {})
    for name, messages in exc.errors.items():
        target = next((f[name] for f in (form, *others) if name in f), None)
        if target is not None:
            target.errors = list(target.errors) + messages
        elif name in SECTIONS or name.startswith(SECTION_PREFIXES):
            form.section_errors.setdefault(name, []).extend(messages)
        else:
            form.form_errors.extend(messages)


def get_in_office(s: Session, model: Any, obj_id: int, office: Office) -> Any:
    """The office's own row by id; 404 for a row of another office."""
    obj = s.get(model, obj_id)
    if obj is None or obj.office_id != office.id:
        abort(404)
    return obj


def render_form(s: Session, office: Office, title: str, form: Any, back: str, status: int = 200, template: str = "manager/config/form.html", **kw: Any):
    return render_template(template, title=title, form=form, back=back, **ctx(s, office, **kw)), status


def done(message: str, endpoint: str, office: Office):
    flash(message)
    return redirect(url_for(endpoint, **office_args(office)))


def show_secret(s: Session, office: Office, title: str, secret: str, note: str, url: str | None = None):
    """A new token or password, shown once and never cached."""
    resp = render_template("manager/config/secret.html", title=title, secret=secret, note=note, url=url,
                           back=url_for(".devices" if url else ".users", **office_args(office)), **ctx(s, office))
    return resp, 200, {"Cache-Control": "no-store"}


def int_or_none(value: Any) -> int | None:
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


def spans_text_of(spans: dict[str, list[str]] | list[str]) -> str:
    """Spans in config.toml's week-or-list shape as a form shows them: one line for every working
    day, or a line a day."""
    if isinstance(spans, list):
        return spans_text(spans)
    return "\n".join(f"{d}: {spans_text(spans[d])}" for d in WEEKDAYS if d in spans)


DAY_LINE = re.compile(rf"^({'|'.join(WEEKDAYS)})\s*:?\s*(.*)$", re.IGNORECASE)


def parse_week_or_list(text: str, field: str) -> dict[str, list[str]] | list[str]:
    """'08:00-11:00, 14:00-16:00' (every working day) or lines 'mon: 08:00-11:00': config.toml's
    week-or-list shape (a field's booking spans, a counter's hours); errors go under `field`."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not any(DAY_LINE.match(line) for line in lines):
        return cs.parse_spans(", ".join(lines), field)
    days: dict[str, list[str]] = {}
    for line in lines:
        m = DAY_LINE.match(line)
        if not m:
            raise cs.invalid(field, f"“{line}”: mỗi dòng bắt đầu bằng một ngày ({', '.join(WEEKDAYS)}).",
                             f"“{line}”: start each line with a day ({', '.join(WEEKDAYS)}).")
        days[m.group(1).lower()] = cs.parse_spans(m.group(2), field)
    return days


def refresh_estimates_on_commit(s: Session, office_id: int) -> None:
    """The estimator keeps an office's counters, fields and typical minutes for a minute: drop them
    once this change commits (earlier, a reader could cache the old ones again)."""
    event.listen(s, "after_commit", lambda done: estimates.forget_topology(done, office_id), once=True)


def _shared_helpers() -> dict[str, Any]:
    from manager.views import _helpers

    return _helpers()


bp.context_processor(_shared_helpers)
