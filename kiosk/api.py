"""JSON endpoints only a kiosk uses, authenticated with its device token.

Errors have the API's shape, {"error": {"code", "message", "message_en"}}, so the kiosk script
reads every failure the same way.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from kiosk.views import kiosk_settings
from motcua import auth
from motcua.engine import citizens, reprints, tickets
from motcua.engine.errors import not_found
from motcua.json_errors import use_json_errors
from motcua.models import Device, DeviceKind, Office, PrintJob
from motcua.state import state

bp = Blueprint("kiosk_api", __name__, url_prefix="/kiosk/api")
KIOSK = frozenset({DeviceKind.kiosk})
use_json_errors(bp)


@bp.get("/me")
def me():  # noqa: ANN201
    """Who this kiosk is: its office and settings, and whether a printer is attached."""
    p = auth.check(devices=KIOSK)
    with state().db.read() as s:
        device = s.get(Device, p.device_id)
        office = s.get(Office, device.office_id)
        return jsonify(device=device.name, printer=device.printer_id is not None, **kiosk_settings(office))


@bp.get("/print-jobs/<int:job_id>")
def print_job(job_id: int):  # noqa: ANN201
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
def card():  # noqa: ANN201
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


@bp.post("/tickets/<public_id>/reprint")
def reprint(public_id: str):  # noqa: ANN201
    """Print a citizen's waiting ticket again (the same card scanned twice the same day)."""
    p = auth.check(devices=KIOSK)
    with state().db.write() as s:
        device = s.get(Device, p.device_id)
        t = tickets.find_ticket(s, public_id)
        if t.office_id != device.office_id:
            raise not_found("phiếu", "Ticket", "unknown_ticket")
        job_id = reprints.reprint(s, t, device)
    return jsonify(print_job=job_id), 201

