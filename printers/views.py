"""Reprinting a ticket, and the print job status a kiosk shows."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from motcua import auth
from motcua.auth import STAFF
from motcua.engine import clock, tickets
from motcua.engine.errors import QueueError
from motcua.json_errors import use_json_errors
from motcua.models import Device, DeviceKind, PrintJob
from motcua.state import state

bp = Blueprint("printers", __name__, url_prefix="/printers")
use_json_errors(bp)


@bp.post("/api/tickets/<public_id>/reprint")
def reprint(public_id: str):
    """Print a ticket again (staff, or the kiosk that issued it) on that kiosk's printer."""
    p = auth.check(roles=STAFF, devices=frozenset({DeviceKind.kiosk}))
    with state().db.write() as s:
        t = tickets.find_ticket(s, public_id)
        if not p.may_see_office(t.office_id) or (p.device_id is not None and p.device_id != t.device_id):
            raise QueueError("forbidden", "Bạn không có quyền in lại phiếu này.", "You may not reprint this ticket.", status=403)
        device = s.get(Device, t.device_id) if t.device_id else None
        if device is None or device.printer_id is None:
            raise QueueError("no_printer", "Phiếu này không được cấp từ kiosk có máy in.", "This ticket was not issued at a kiosk with a printer.", status=409)
        now = clock.now()
        job = PrintJob(ticket_id=t.id, printer_id=device.printer_id, backup_printer_id=device.backup_printer_id, created_at=now, updated_at=now)
        s.add(job)
        s.flush()
        job_id, printer_id = job.id, job.printer_id
    current_app.extensions["motcua.spooler"].submit(job_id, printer_id, state().status_url(public_id))
    return jsonify(print_job=job_id, status="pending"), 202
