"""JSON endpoints only a kiosk uses, authenticated with its device token.

Errors have the API's shape, {"error": {"code", "message", "message_en"}}, so the kiosk script
reads every failure the same way.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from kiosk.views import kiosk_settings
from motcua import auth
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
