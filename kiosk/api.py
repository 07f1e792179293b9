"""JSON endpoints only a kiosk uses, authenticated with its device token.

Errors have the API's shape, {"error": {"code", "message", "message_en"}}, so the kiosk script
reads every failure the same way.
"""

from __future__ import annotations

import re
import threading
import time

from flask import Blueprint, current_app, jsonify, request, send_file
from sqlalchemy import select

from kiosk.views import kiosk_settings, kiosk_voice
from motcua import auth
from motcua import speech as voice
from motcua.booking import arrival as booking_arrival
from motcua.booking import book
from motcua.engine import changes, citizens, clock, reprints, tickets
from motcua.engine import check_in as arrivals
from motcua.engine.errors import QueueError, not_found
from motcua.engine.views import holder_ticket_view
from motcua.json_errors import error_response, use_json_errors
from motcua.models import Device, DeviceKind, Office, PrintJob, Service
from motcua.state import state

bp = Blueprint("kiosk_api", __name__, url_prefix="/kiosk/api")
KIOSK = frozenset({DeviceKind.kiosk})
use_json_errors(bp)


@bp.get("/me")
def me():
    """Who this kiosk is: its office and settings, and whether a printer is attached."""
    p = auth.check(devices=KIOSK)
    with state().db.read() as s:
        device = s.get(Device, p.device_id)
        office = s.get(Office, device.office_id)
        return jsonify(device=device.name, printer=device.printer_id is not None, **kiosk_settings(office, device))


# A citizen who taps "call staff" again and again raises one alert a minute, not a flood.
HELP_REPEAT_S = 60
_help_lock = threading.Lock()
_help_last: dict[int, float] = {}


@bp.post("/help")
def call_staff():
    """A citizen at this kiosk asks for a member of staff: a `kiosk.help` change that the
    counter pages and the manager's dashboard show."""
    p = auth.check(devices=KIOSK)
    now = time.monotonic()
    with _help_lock:
        repeat = now - _help_last.get(p.device_id, -HELP_REPEAT_S) < HELP_REPEAT_S
        if not repeat:
            _help_last[p.device_id] = now
    if repeat:
        return jsonify(sent=False, repeat=True)
    with state().db.write() as s:
        device = s.get(Device, p.device_id)
        changes.record(s, device.office_id, "kiosk.help", {"kiosk": {"id": device.id, "name": device.name}, "at": clock.now().isoformat()})
    return jsonify(sent=True, repeat=False), 201


@bp.get("/print-jobs/<int:job_id>")
def print_job(job_id: int):
    """The print status of a ticket this kiosk issued. Other kiosks get 404, not 403:
    they need not learn which job numbers exist."""
    p = auth.check(devices=KIOSK)
    with state().db.read() as s:
        job = s.get(PrintJob, job_id)
        if job is None or job.ticket.device_id != p.device_id:
            raise not_found("lệnh in", "Print job", "unknown_print_job")
        return jsonify(
            id=job.id,
            ticket=job.ticket.public_id,
            code=job.ticket.code,
            status=job.status,
            error=job.error,
            attempts=job.attempts,
            printed_at=job.printed_at.isoformat() if job.printed_at else None,
        )


@bp.post("/card")
def card():
    """A CCCD just scanned: the greeting, whether the elderly priority is offered, and the card's
    tickets still waiting today. Nothing is written; the card text is read and forgotten."""
    p = auth.check(devices=KIOSK)
    data = request.get_json(silent=True)
    id_qr = data.get("id_qr") if isinstance(data, dict) else None
    if not isinstance(id_qr, str) or len(id_qr) > 500:
        raise citizens.bad_card()
    with state().db.read() as s:
        office = s.get(Office, s.get(Device, p.device_id).office_id)
        return jsonify(citizens.card_status(s, office, id_qr, current_app.config["SECRET_KEY"]))


@bp.post("/check-in")
def check_in():
    """A remote number arrives: its 6-character code typed ({"code"}) or its status page's QR
    scanned ({"scan"}). Counters may call it from now on; it keeps its place in the queue.

    An appointment arrives the same way (its code, or its page's QR, /a/<id>): its ticket is
    issued and printed here, and the answer adds `appointment` {start, end, arrival, code}."""
    from motcua.api.routing import parse_body
    from motcua.api.schemas import CheckIn

    p = auth.check(devices=KIOSK)
    body = parse_body(CheckIn)
    with state().db.write() as s:
        office = s.get(Office, s.get(Device, p.device_id).office_id)
        now = clock.now()
        if body.scan is not None and book.PAGE_URL.search(body.scan.strip()):
            return _appointment_arrives(s, office, book.find_appointment(s, office, scan=body.scan, now=now), p, now)
        try:
            t = arrivals.find_for_check_in(s, office, code=body.code, scan=body.scan, now=now)
        except QueueError as exc:
            if body.code is None or exc.code != "unknown_check_in":
                raise
            try:
                found = book.find_appointment(s, office, code=body.code, now=now)
            except QueueError:
                raise exc from None  # neither a remote number nor an appointment: the check-in's own answer
            return _appointment_arrives(s, office, found, p, now)
        view = arrivals.check_in(s, office, t, now)
    return jsonify(ticket=view)


def _appointment_arrives(s, office: Office, found, p, now):
    issued, appointment = booking_arrival.check_in(s, office, found, now=now, device_id=p.device_id)
    t = tickets.find_ticket(s, issued.public_id)
    return jsonify(ticket=holder_ticket_view(t), appointment=appointment, status_url=state().status_url(issued.public_id),
                   print_job=issued.print_job_id, waiting_ahead=issued.waiting_ahead), 201


@bp.post("/tickets/<public_id>/reprint")
def reprint(public_id: str):
    """Print a citizen's waiting ticket again (the same card scanned twice the same day)."""
    p = auth.check(devices=KIOSK)
    with state().db.write() as s:
        device = s.get(Device, p.device_id)
        t = tickets.find_ticket(s, public_id)
        if t.office_id != device.office_id:
            raise not_found("phiếu", "Ticket", "unknown_ticket")
        job_id = reprints.reprint(s, t, device)
    return jsonify(print_job=job_id), 201


# What the kiosk says (Vietnamese: the office's voice pack speaks Vietnamese only).
PROMPT = "Mời chọn lĩnh vực cần giải quyết"
YOUR_NUMBER = "Số của bạn là"
FIELD = "Lĩnh vực"
CODE = re.compile(r"^[A-Z0-9]{1,12}$")


def _no_speech():
    return error_response("speech_unavailable", "Kiosk này không có giọng đọc.", "This kiosk has no spoken guidance.", 404)


@bp.get("/speech")
def speech():
    """Spoken guidance as a WAV: ?what=prompt ("Mời chọn lĩnh vực…"), or ?what=ticket&code=A001
    &service=HT ("Lĩnh vực Hộ tịch. Số của bạn là A không không một"). A field whose name the
    voice pack cannot say is left out; the number is always said."""
    p = auth.check(devices=KIOSK)
    what = request.args.get("what", "")
    with state().db.read() as s:
        device = s.get(Device, p.device_id)
        office = s.get(Office, device.office_id)
        if not kiosk_voice(office, device) or not voice.can_say():
            return _no_speech()
        office_code = office.code
        if what == "prompt":
            tries = [[("text", PROMPT)]]
        elif what == "ticket" and CODE.match(request.args.get("code", "")):
            code = request.args["code"]
            name = s.scalar(select(Service.name).where(Service.office_id == office.id, Service.code == request.args.get("service", "")))
            said = [("text", YOUR_NUMBER), ("code", code)]
            # A field's name is one phrase for the pack: commas inside it would split it.
            spoken_name = " ".join(re.sub(r"[,.;:!?…–—()\-]", " ", name or "").split())
            tries = ([[("text", f"{FIELD} {spoken_name}."), *said]] if spoken_name else []) + [said]
        else:
            return error_response("bad_request", "Yêu cầu không hợp lệ.", "Bad request.", 400)
    for parts in tries:
        try:
            path = voice.say(office_code, parts)
        except LookupError:
            continue
        if path is None:
            return _no_speech()
        resp = send_file(path, mimetype="audio/wav", max_age=0)
        resp.headers["Cache-Control"] = "no-store"
        return resp
    return _no_speech()
