"""Printing a waiting ticket again at the kiosk that holds it (the same card scanned twice the
same day is shown its ticket, not given a second one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from motcua.engine import changes, clock
from motcua.engine.errors import conflict
from motcua.engine.views import ticket_view
from motcua.models import Device, Office, PrintJob, Ticket, TicketStatus


def reprint(session: Session, t: Ticket, device: Device, now: datetime | None = None) -> int:
    """Queue a new print job of today's waiting ticket on the kiosk's printer; the spooler
    prints it after the commit (the change `ticket.reprinted` carries the job, like issuing)."""
    now = now or clock.now()
    if device.printer_id is None:
        raise conflict("no_printer", "Kiosk này không có máy in.", "This kiosk has no printer.")
    office = session.get(Office, t.office_id)
    if t.status != TicketStatus.waiting or t.business_day != clock.business_day(now, office.timezone):
        raise conflict("ticket_not_waiting", "Số này không còn chờ nên không in lại được.", "This ticket is no longer waiting: it cannot be printed again.")
    job = PrintJob(ticket_id=t.id, printer_id=device.printer_id, backup_printer_id=device.backup_printer_id, created_at=now, updated_at=now)
    session.add(job)
    device.last_seen_at = now
    session.flush()
    changes.record(session, t.office_id, "ticket.reprinted", {"ticket": ticket_view(t), "print_job": job.id, "printer": device.printer_id},
                   local={"public_id": t.public_id})  # for the ticket's QR code; never broadcast
    return job.id
