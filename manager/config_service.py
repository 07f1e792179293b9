"""Configuration changes made at run time: validation (the same pydantic rules as config.toml),
the audit log, and the `config.updated` change that tells kiosks, counters and displays.

Plain functions over a write session; the caller commits. Every change goes through `apply`,
so nothing changes without an AuditLog row (who, when, entity, action, before → after) and a
change with the office's next sequence number.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from manager.form_errors import Message, messages_of
from motcua import passwords
from motcua.config import (
    WEEKDAYS,
    CounterConfig,
    DeviceConfig,
    FieldConfig,
    OfficeConfig,
    PrinterConfig,
    PriorityGroupConfig,
    parse_span,
)
from motcua.engine import changes, clock
from motcua.engine.views import counter_view, service_view
from motcua.models import AuditLog, Counter, Office, Service, User
from motcua.seed import SETTING_KEYS

CHANGED = "(đã đổi / changed)"  # what the audit log keeps of a password or token
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


class Invalid(Exception):
    """Validation failed: {field: [messages]}, each in both languages (manager.form_errors). `status` is the
    page's answer: 422 for input to correct, 403 for a change the user's role may not make."""

    def __init__(self, errors: dict[str, list[Message]], status: int = 422) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(f'{m.vi} / {m.en}' for m in v)}" for k, v in errors.items()))
        self.errors = errors
        self.status = status


def invalid(field: str, vi: str, en: str) -> Invalid:
    return Invalid({field: [Message(vi, en)]})


def refused(field: str, vi: str, en: str) -> Invalid:
    """A change this user's role may not make (shown on the form, answered 403)."""
    return Invalid({field: [Message(vi, en)]}, status=403)


# ---- validation with config.toml's own models ------------------------------------------------


def check(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(messages_of(model.__name__, exc)) from None


def check_field(data: dict[str, Any]) -> FieldConfig:
    return check(FieldConfig, data)  # type: ignore[return-value]


def check_counter(data: dict[str, Any]) -> CounterConfig:
    return check(CounterConfig, data)  # type: ignore[return-value]


def check_priority_group(data: dict[str, Any]) -> PriorityGroupConfig:
    return check(PriorityGroupConfig, data)  # type: ignore[return-value]


def check_printer(data: dict[str, Any]) -> PrinterConfig:
    return check(PrinterConfig, data)  # type: ignore[return-value]


def check_device(data: dict[str, Any]) -> DeviceConfig:
    return check(DeviceConfig, data)  # type: ignore[return-value]


class ExtraSettings(BaseModel):
    """Settings this room adds to the office's (not in config.toml, defaults in manager.dashboard)."""

    model_config = ConfigDict(extra="forbid")
    field_wait_alert_minutes: dict[str, int] = Field(default_factory=dict)
    device_offline_minutes: int = Field(default=5, ge=1, le=1440)
    printer_failure_minutes: int = Field(default=15, ge=1, le=1440)


EXTRA_KEYS = tuple(ExtraSettings.model_fields)


def check_settings(office: Office, updates: dict[str, Any]) -> dict[str, Any]:
    """Validate new office settings the way config.toml is validated; returns them normalised
    (holidays as ISO dates), ready to merge into office.settings."""
    merged = {**(office.settings or {}), **updates}
    core = {k: merged[k] for k in SETTING_KEYS if k in merged}
    payload = {
        "code": office.code, "name": office.name, "timezone": office.timezone,
        "fields": [{"code": "x", "name": "x"}],  # fields are checked on their own pages
        "holidays": merged.get("holidays", []),
        **core,
    }
    out: dict[str, Any] = {}
    try:
        cfg = OfficeConfig.model_validate(payload)
    except ValidationError as exc:
        errors = messages_of("OfficeConfig", exc)
        if "__all__" in errors and "rating_scale" in updates:  # the two scales' lengths differ
            errors.pop("__all__")
            errors.setdefault("rating_scale_en", []).append(Message(
                "Hai thang cần cùng số mức, cùng thứ tự: mỗi dòng tiếng Anh dịch dòng tiếng Việt ở cùng vị trí.",
                "Both scales need the same number of levels in the same order: each English line translates the Vietnamese line at its place."))
        raise Invalid(errors) from None
    for k in updates:
        if k == "holidays":
            out[k] = sorted({d.isoformat() for d in cfg.holidays})
        elif k in SETTING_KEYS:
            value = getattr(cfg, k)
            out[k] = {d: list(v) for d, v in value.items()} if isinstance(value, dict) else (list(value) if isinstance(value, list) else value)
    extra = {k: updates[k] for k in updates if k in EXTRA_KEYS}
    if extra:
        checked = check(ExtraSettings, {**{k: merged[k] for k in EXTRA_KEYS if k in merged}, **extra})
        out.update({k: getattr(checked, k) for k in extra})
    unknown = set(updates) - set(SETTING_KEYS) - set(EXTRA_KEYS) - {"holidays"}
    if unknown:
        raise Invalid({k: [Message("Không có thiết lập này.", "There is no such setting.")] for k in unknown})
    return out


def parse_spans(text: str, field: str) -> list[str]:
    """'07:30-11:30, 13:30-17:30' → ['07:30-11:30', '13:30-17:30'] (each checked)."""
    spans = [p.strip() for p in re.split(r"[,;\n]+", text or "") if p.strip()]
    for span in spans:
        try:
            parse_span(span)
        except ValueError:
            if _two_times(span):
                raise invalid(field, f"“{span}”: giờ kết thúc phải sau giờ bắt đầu, ví dụ 07:30-11:30.",
                              f"“{span}”: the end must be after the start, e.g. 07:30-11:30.") from None
            raise invalid(field, f"“{span}” không đúng dạng: hãy viết giờ:phút-giờ:phút, ví dụ 07:30-11:30.",
                          f"“{span}” is not a time span: write hh:mm-hh:mm, e.g. 07:30-11:30.") from None
    return [s.replace(" ", "") for s in spans]


def _two_times(span: str) -> bool:
    """Whether a refused span is two real times (then only their order is wrong)."""
    parts = [p.strip() for p in span.split("-")]
    try:
        return len(parts) == 2 and all(datetime.strptime("23:59" if p == "24:00" else p, "%H:%M") for p in parts)
    except ValueError:
        return False


def parse_week(form_values: dict[str, str], prefix: str) -> dict[str, list[str]]:
    return {d: parse_spans(form_values.get(f"{prefix}{d}", ""), f"{prefix}{d}") for d in WEEKDAYS}


def parse_holidays(text: str) -> list[str]:
    """One date a line, dd/mm/yyyy or YYYY-MM-DD."""
    days = []
    for line in re.split(r"[\n,;]+", text or ""):
        line = line.strip()
        if not line:
            continue
        try:
            if "/" in line:
                d, m, y = (int(p) for p in line.split("/"))
                days.append(date(y, m, d).isoformat())
            else:
                days.append(date.fromisoformat(line).isoformat())
        except ValueError:
            raise invalid("holidays", f"Ngày “{line}” không đúng: hãy viết dd/mm/yyyy, mỗi dòng một ngày, ví dụ 02/09/2026.",
                          f"“{line}” is not a date: write dd/mm/yyyy, one a line, e.g. 02/09/2026.") from None
    return sorted(set(days))


def check_unique_series(session: Session, office: Office, prefix: str, start: int, service_id: int | None) -> None:
    for s in session.scalars(select(Service).where(Service.office_id == office.id)):
        if s.id != service_id and s.prefix == prefix and s.start_number == start:
            raise invalid("prefix", f"Tiền tố {prefix or '(trống)'} bắt đầu từ {start} đã dùng cho lĩnh vực {s.name}",
                          f"prefix {prefix!r} starting at {start} is already used by {s.code}")


def check_user_fields(session: Session, username: str | None, password: str | None, user_id: int | None = None) -> None:
    if username is not None:
        if not USERNAME.match(username):
            raise invalid("username", "Tên đăng nhập 3–64 ký tự: chữ không dấu, số, . _ - @", "3–64 characters: letters, digits, . _ - @")
        other = session.scalar(select(User).where(User.username == username))
        if other is not None and other.id != user_id:
            raise invalid("username", f"Đã có người dùng {username}", f"user {username} exists")
    if password is not None:
        why = passwords.problem(password, username=username or "")
        if why is not None:
            raise invalid("password", *why)


# ---- applying a change ---------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (int, float, str)):
        return value.value  # enums
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{key: [before, after]} for the keys that changed."""
    out = {}
    for k in sorted(set(before) | set(after)):
        b, a = _plain(before.get(k)), _plain(after.get(k))
        if b != a:
            out[k] = [b, a]
    return out


def apply(
    session: Session,
    office: Office,
    user_id: int | None,
    entity: str,
    entity_id: Any,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, list[Any]]:
    """Write the audit row and tell every listener; returns the differences (empty: nothing logged)."""
    changed = diff(before, after)
    if not changed and action == "update":
        return changed
    session.add(
        AuditLog(office_id=office.id, user_id=user_id, at=now or clock.now(), entity=entity,
                 entity_id=None if entity_id is None else str(entity_id), action=action, changes=changed or None)
    )
    session.flush()
    payload = {"entity": entity, "action": action, "entity_id": entity_id, "keys": sorted(changed)}
    payload.update(data or {})
    changes.record(session, office.id, "config.updated", payload)
    return changed


def service_payload(session: Session, office: Office, s: Service) -> dict[str, Any]:
    """The field as displays and kiosks hold it, so their state updates without a reload."""
    session.flush()
    return {"service": service_view(session, office, s, clock.now())}


def counter_payload(session: Session, c: Counter) -> dict[str, Any]:
    session.flush()
    session.refresh(c)
    return {"counter": counter_view(c)} if c.active else {}


def snapshot_of(obj: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: _plain(getattr(obj, k)) for k in keys}

