"""Appointments from a citizen's phone: the booking page (`/q/<office>/book`: field, day, slot,
name and phone) and each appointment's own page (`/a/<public_id>`: its code in large letters to
type at the kiosk, a QR of its own address for the kiosk's scanner, cancelling, and once checked
in the way to the ticket's status page). Both read and write through the public API
(motcua.api, motcua.booking); the appointment page never shows the booked name."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from kiosk import qr
from kiosk.public_views import no_store_page, office_or_404
from kiosk.strings import booking_strings
from motcua.booking import book as booking
from motcua.engine import clock
from motcua.engine.errors import QueueError
from motcua.models import Office, Service
from motcua.state import state

bp = Blueprint("booking_pages", __name__, template_folder="templates")

PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def _lang() -> str:
    return str(get_locale() or "vi")


def _weekday(day: datetime) -> str:
    return (_("Thứ Hai"), _("Thứ Ba"), _("Thứ Tư"), _("Thứ Năm"), _("Thứ Sáu"), _("Thứ Bảy"), _("Chủ nhật"))[day.weekday()]


@bp.get("/q/<code>/book")
def book(code: str):
    with state().db.read() as s:
        o = office_or_404(s, code)
        bookable = (o.settings or {}).get("booking_fields") or {}
        services = s.scalars(select(Service).where(Service.office_id == o.id, Service.active, Service.code.in_(list(bookable)))
                             .order_by(Service.sort_order, Service.id)).all() if bookable else []
        fields = [{"code": sv.code, "name": sv.name, "name_en": sv.name_en, "days_ahead": int(bookable[sv.code].get("days_ahead", 14))}
                  for sv in services]
        info = {"code": o.code, "name": o.name, "address": o.address}
        today = clock.business_day(clock.now(), o.timezone).isoformat()
        timezone = o.timezone
    config = {"lang": _lang(), "office": info["code"], "today": today, "timezone": timezone, "fields": fields,
              "strings": booking_strings(),
              "urls": {"slots": url_for("api.list_slots"), "book": url_for("api.book_appointment"), "page": url_for(".appointment", public_id="__ID__")}}
    return no_store_page(render_template("kiosk/book.html", office=info, fields=fields, config=config))


def _appointment(public_id: str) -> tuple[dict, dict]:
    with state().db.read() as s:
        try:
            a = booking.find_by_page(s, public_id)
        except QueueError:
            abort(404)
        view = booking.appointment_view(s, a)
        office = s.get(Office, a.office_id)
        service = s.get(Service, a.service_id)
        view["service_name_en"] = service.name_en
        return view, {"code": office.code, "name": office.name, "timezone": office.timezone}


@bp.get("/a/<public_id>")
def appointment(public_id: str):
    if not PUBLIC_ID.match(public_id):
        abort(404)
    view, office = _appointment(public_id)
    start = clock.local(datetime.fromisoformat(view["start"]), office["timezone"])
    end = clock.local(datetime.fromisoformat(view["end"]), office["timezone"])
    when = {"weekday": _weekday(start), "date": f"{start:%d/%m/%Y}", "time": f"{start:%H:%M}–{end:%H:%M}", "start": f"{start:%H:%M}"}
    config = {"lang": _lang(), "status": view["status"], "strings": booking_strings(),
              "urls": {"cancel": url_for("api.cancel_appointment", code=public_id), "view": url_for("api.appointment_page_data", public_id=public_id)}}
    ticket_url = url_for("kiosk.ticket_page", public_id=view["ticket"]["public_id"]) if view.get("ticket") else None
    resp = no_store_page(render_template("kiosk/appointment.html", a=view, when=when, office=office,
                                 config=config, ticket_url=ticket_url, new=request.args.get("new") == "1"))
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


@bp.get("/a/<public_id>/qr.svg")
def appointment_qr(public_id: str):
    """The QR of the appointment page's own address: the kiosk's scanner reads it to check in."""
    if not PUBLIC_ID.match(public_id):
        abort(404)
    resp = Response(qr.svg(state().public_address(url_for(".appointment", public_id=public_id))), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp
