"""The delivery log: /manager/notifications, the messages sent to citizens on a day (SMS/Zalo
gateways, Web Push), filtered by status, newest first, with the period's delivery summary."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request

from manager import notification_reports as nr
from manager import reports
from manager.access import page_office
from manager.views import PAGE_ROLES, _helpers, nav_context
from motcua.auth import login_required_page
from motcua.engine import clock
from motcua.notify import outbox
from motcua.state import state

bp = Blueprint("manager_notifications", __name__, url_prefix="/manager", template_folder="templates")
bp.context_processor(_helpers)  # the manager layout's helpers (language switch)


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page") or 1), 100_000))
    except ValueError:
        return 1


@bp.get("/notifications")
@login_required_page(*PAGE_ROLES)
def notifications_page():
    with state().db.read() as s:
        office = page_office(s)
        today = clock.business_day(clock.now(), office.timezone)
        day: date = reports.parse_day(request.args.get("day"), today, "day")
        status = request.args.get("status") or ""
        if status not in outbox.STATUSES:
            status = ""
        log = nr.delivery_log(s, office, day, status or None, _page_number())
        summary = nr.delivery_summary(s, office, day, day)
    args = {"day": day.isoformat(), "status": status, "office": office.code}
    return render_template("manager/notifications.html", log=log, summary=summary, day=day, status=status, args=args,
                           statuses=outbox.STATUSES, **nav_context(office))
