"""Appointments: the slots of a bookable field, booking, cancelling, the appointment page's data,
and the check-in branch of POST /api/v1/tickets (motcua.booking).

No sign-in for the public routes: booking and cancelling are limited per address and per phone
(motcua.limits), and a browser carrying a staff session must show the page's CSRF token."""

from __future__ import annotations

from datetime import date

from flask import current_app, jsonify, request
from sqlalchemy.orm import Session

from motcua import auth, notify
from motcua.api import schemas as S
from motcua.api.routing import api_route
from motcua.auth import Principal
from motcua.booking import arrival, book
from motcua.booking.slots import day_slots
from motcua.engine import clock, remote
from motcua.engine.errors import QueueError
from motcua.engine.tickets import Issued, find_service
from motcua.models import Office, Service
from motcua.state import state

_QUERY = [{"name": n, "in": "query", "required": n != "date", "schema": {"type": "string"}, "description": d}
          for n, d in (("office", "Office code"), ("service", "Field code"), ("date", "YYYY-MM-DD, the office's day (default today)"))]


def _csrf_if_signed_in() -> None:
    if request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        auth.require_csrf()


@api_route("/public/slots", "GET", summary="A bookable field's slots of a day, with the places left", auth="public",
           response=S.SlotsOut, params=_QUERY)
def list_slots():
    office_code, service_code = request.args.get("office", ""), request.args.get("service", "")
    with state().db.read() as s:
        office = remote.find_office(s, office_code)
        service = find_service(s, office, service_code)
        now = clock.now()
        try:
            day = date.fromisoformat(request.args["date"]) if request.args.get("date") else clock.business_day(now, office.timezone)
        except ValueError:
            raise QueueError("bad_date", "Ngày không hợp lệ (YYYY-MM-DD).", "The date is not valid (YYYY-MM-DD).", status=422) from None
        found = day_slots(s, office, service, day, now)
        closed = found.closed
        return jsonify(office=office.code, service=service.code, date=day.isoformat(), per_slot=found.per_slot,
                       closed_reason={"code": closed[0], "message": closed[1], "message_en": closed[2]} if closed else None,
                       slots=[slot.view() for slot in found.slots])


@api_route("/public/appointments", "POST", summary="Book a place in a slot (name and phone; the phone kept as a keyed hash)",
           auth="public", body=S.BookAppointment, response=S.BookedOut, status=201)
def book_appointment(body: S.BookAppointment):
    _csrf_if_signed_in()
    with state().db.write() as s:
        a = book.book(s, body.office, body.service, body.start, name=body.name, phone=body.phone, secret=current_app.config["SECRET_KEY"],
                      seal=notify.phone_sealer(current_app))
        queued = notify.appointments.booked(current_app, s, a)
        view = book.booked_view(a, s.get(Service, a.service_id))
    if queued:
        notify.wake(current_app)
    return jsonify(view), 201


@api_route("/public/appointments/<code>/cancel", "POST", summary="Cancel a booking by its code (or its page's id)", auth="public",
           response=S.AppointmentOut, params=[{"name": "office", "in": "query", "required": False, "schema": {"type": "string"},
                                               "description": "Office code, when two offices' bookings share the code"}])
def cancel_appointment(code: str):
    _csrf_if_signed_in()
    with state().db.write() as s:
        a = book.cancel(s, book.find_for_cancel(s, code, request.args.get("office")))
        return jsonify(book.appointment_view(s, a))


@api_route("/public/appointments/<public_id>", "GET", summary="An appointment, for its page (the id is unguessable)", auth="public",
           response=S.AppointmentOut)
def appointment_page_data(public_id: str):
    with state().db.read() as s:
        return jsonify(book.appointment_view(s, book.find_by_page(s, public_id)))


def check_in(s: Session, office_id: int, body: S.IssueTicket, key: str | None, p: Principal, *, look_for_replay: bool) -> tuple[Issued, dict]:
    """POST /api/v1/tickets with {appointment}: a typed code or the page's QR text."""
    office = s.get(Office, office_id)
    text = body.appointment or ""
    found = book.find_appointment(s, office, scan=text) if "/a/" in text else book.find_appointment(s, office, code=text)
    issued, extra = arrival.check_in(s, office, found, device_id=p.device_id, user_id=p.user_id, idempotency_key=key,
                                     look_for_replay=look_for_replay)
    return issued, {"source": "appointment", "appointment": extra}
