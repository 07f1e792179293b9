"""Whether a field takes tickets now: active, inside its issuing windows, under its daily quota.
Issuing refuses by these rules, and every field's view (kiosk, displays) shows them."""

from __future__ import annotations

from datetime import datetime
from types import EllipsisType

from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.engine import clock
from motcua.models import NumberCounter, Office, Service

QUOTA_REACHED = ("quota_reached", "Đã hết số thứ tự của lĩnh vực này trong hôm nay.", "Today's tickets for this field have run out.")


def issue_blocker(session: Session, office: Office, service: Service, now: datetime, *,
                  last_number: int | None | EllipsisType = ...) -> tuple[str, str, str] | None:
    """Why this field cannot issue a ticket now, or None. `last_number` is today's last number
    when the caller already knows it (None: none drawn yet); otherwise it is read."""
    if not service.active:
        return ("service_inactive", "Lĩnh vực này tạm ngừng nhận hồ sơ.", "This field is not taking tickets at the moment.")
    reason = clock.closed_reason(office.settings, service.issuing_windows, now, office.timezone)
    if reason:
        return reason
    if service.daily_quota:
        if last_number is ...:
            day = clock.business_day(now, office.timezone)
            last_number = session.scalar(
                select(NumberCounter.last_number).where(NumberCounter.service_id == service.id, NumberCounter.business_day == day)
            )
        if quota_used_up(service, last_number):
            return QUOTA_REACHED
    return None


def quota_used_up(service: Service, last_number: int | None) -> bool:
    return bool(service.daily_quota) and last_number is not None and last_number - service.start_number + 1 >= service.daily_quota
