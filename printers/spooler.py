"""The print spooler: one worker thread per printer, fed after the ticket is committed.

A job is a `PrintJob` row written in the ticket's own transaction, so a crash never loses the
fact that a ticket should have printed; the row records every attempt and error. The worker:

- drops a job older than the office's `print_max_age_seconds` instead of printing it late (the
  kiosk already showed the ticket on screen; a stale backlog must never spill out of a printer
  that comes back after an hour);
- asks the printer's status first where the connection can answer (online, paper), so a
  printer that is out of paper fails fast instead of swallowing the job;
- never opens a printer whose target is outside the server's allow-list (``[printer_targets]``
  in config.toml): the refusal is recorded on the job and the printer's health, and the job
  goes to the backup printer at once, since no retry can help;
- sends with the printer's short timeout, retries a bounded number of times, then fails over
  to the kiosk's backup printer;
- claims the job with a conditional UPDATE, so several processes never print one job twice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import object_session

from motcua.booking.model import Appointment
from motcua.db import Database
from motcua.engine import clock
from motcua.engine.estimates import Eta
from motcua.models import Office, Printer, PrintJob, Ticket
from motcua.printer_targets import Allowlist
from printers import layout
from printers.connections import admit, can_report_status, locate, query_status, send
from printers.encode import encode_image, encode_ticket
from printers.spec import PrintError, PrinterSpec, TargetNotAllowed
from printers.status import PrinterStatus
from printers.transports.base import refused_status

log = logging.getLogger(__name__)

RETRIES = 2  # attempts per printer beyond the first
RETRY_DELAY_S = 1.0
RECOVER_RETRY_MAX_S = 10.0  # start-up recovery during a database outage: tries at 1, 2, 4, 8, 10, 10 … s


def spec_for(p: Printer, instance: Path, allow: Allowlist) -> PrinterSpec:
    return PrinterSpec(name=p.name, connection=p.connection, target=locate(p.connection, p.target, instance), profile=p.profile,
                       width_dots=p.width_dots, native_qr=p.native_qr, timeout=p.timeout, allow=allow)


def ticket_content(t: Ticket, office: Office, status_url: str) -> layout.TicketContent:
    group = t.priority_group
    booked = object_session(t).get(Appointment, t.appointment_id) if t.appointment_id is not None else None
    return layout.TicketContent(
        office_name=office.name,
        service_name=t.series.name,
        service_name_en=t.series.name_en or None,
        code=t.code,
        priority_label=f"Ưu tiên: {group.name}" if group else None,
        appointment_label=f"Lịch hẹn {clock.local(booked.start, office.timezone):%H:%M}" if booked else None,
        waiting_ahead=t.waiting_ahead,
        eta_text=Eta(t.eta_low, t.eta_high).text(),
        issued_at=clock.local(t.issued_at, office.timezone),
        status_url=status_url,
    )


@dataclass(frozen=True)
class Work:
    job_id: int
    status_url: str


class Spooler:
    def __init__(self, db: Database, instance: Path, allow: Allowlist, *, retries: int = RETRIES, retry_delay: float = RETRY_DELAY_S) -> None:
        self.db = db
        self.instance = instance
        self.allow = allow
        self.retries = retries
        self.retry_delay = retry_delay
        self._queues: dict[int, queue.SimpleQueue[Work | None]] = {}
        self._lock = threading.Lock()

    # ---- feeding ------------------------------------------------------------------

    def submit(self, job_id: int, printer_id: int, status_url: str) -> None:
        self._queue(printer_id).put(Work(job_id, status_url))

    def _queue(self, printer_id: int) -> queue.SimpleQueue[Work | None]:
        with self._lock:
            q = self._queues.get(printer_id)
            if q is None:
                q = self._queues[printer_id] = queue.SimpleQueue()
                threading.Thread(target=self._worker, args=(q,), name=f"spooler-{printer_id}", daemon=True).start()
            return q

    def recover(self, status_url: Callable[[str], str]) -> int:
        """At start: jobs a crash left pending are printed if still fresh, dropped otherwise."""
        with self.db.read() as s:
            rows = s.execute(select(PrintJob.id, PrintJob.printer_id).where(PrintJob.status.in_(("pending", "printing")))).all()
        with self.db.write() as s:
            s.execute(update(PrintJob).where(PrintJob.status == "printing").values(status="pending"))
        for job_id, printer_id in rows:
            with self.db.read() as s:
                public_id = s.scalar(select(Ticket.public_id).join(PrintJob, PrintJob.ticket_id == Ticket.id).where(PrintJob.id == job_id))
            self.submit(job_id, printer_id, status_url(public_id))
        return len(rows)

    def recover_or_retry(self, status_url: Callable[[str], str]) -> None:
        """Recover now; while the database is unreachable, keep trying on a thread of its own
        (backing off to RECOVER_RETRY_MAX_S), so a server started, or a worker restarted, during
        an outage starts anyway and prints what is still fresh once the database answers."""
        try:
            self.recover(status_url)
        except OperationalError as exc:
            log.warning("print jobs not recovered yet, the database is unavailable: %s", exc)
            threading.Thread(target=self._recover_later, args=(status_url,), name="spooler-recover", daemon=True).start()

    def _recover_later(self, status_url: Callable[[str], str]) -> None:
        delay = 1.0
        while True:
            time.sleep(delay)
            try:
                count = self.recover(status_url)
            except OperationalError:
                delay = min(delay * 2, RECOVER_RETRY_MAX_S)
                continue
            log.info("print jobs recovered once the database answered: %d", count)
            return

    def stop(self) -> None:
        with self._lock:
            for q in self._queues.values():
                q.put(None)
            self._queues.clear()

    # ---- printing -----------------------------------------------------------------

    def _worker(self, q: queue.SimpleQueue[Work | None]) -> None:
        while True:
            work = q.get()
            if work is None:
                return
            try:
                self.print_job(work.job_id, work.status_url)
            except OperationalError as exc:  # the database went away: the job is left as it stands, the queue goes on
                log.warning("print job %s not printed, the database is unavailable: %s", work.job_id, exc)
            except Exception:
                log.exception("print job %s crashed", work.job_id)
                try:
                    self._finish(work.job_id, "failed", "Lỗi hệ thống khi in / internal error while printing")
                except OperationalError as exc:
                    log.warning("print job %s: failure not recorded, the database is unavailable: %s", work.job_id, exc)

    def print_job(self, job_id: int, status_url: str) -> str:
        """Print one job to its printer, then its backup; returns the final status."""
        if not self._claim(job_id):
            return "skipped"
        with self.db.read() as s:
            job = s.get(PrintJob, job_id)
            t = job.ticket
            office = s.get(Office, t.office_id)
            content = ticket_content(t, office, status_url)
            max_age = timedelta(seconds=int(office.settings.get("print_max_age_seconds", 60)))
            printers = [p for p in (job.printer, job.backup_printer) if p is not None and p.active]
            specs = [(p.id, spec_for(p, self.instance, self.allow)) for p in printers]
            created = job.created_at
        last_error = "Không có máy in / no printer"
        for printer_id, spec in specs:
            try:
                admit(spec)
            except TargetNotAllowed as exc:  # names the printer itself
                last_error = str(exc)
                self._attempt_failed(job_id, last_error)
                self._record_health(printer_id, refused_status(exc))
                continue
            for attempt in range(self.retries + 1):
                if clock.now() - created > max_age:
                    return self._finish(job_id, "dropped", f"Quá hạn, không in nữa / older than {max_age.seconds} s: not printed late")
                try:
                    self._check_ready(printer_id, spec)
                    data = encode_ticket(content, width_dots=spec.width_dots, profile=spec.profile, native_qr=spec.native_qr)
                    send(spec, data, name=f"{t.code}-{job_id}")
                except (PrintError, OSError, ValueError) as exc:
                    last_error = f"{spec.name}: {exc}"
                    self._attempt_failed(job_id, last_error)
                    if attempt < self.retries:
                        time.sleep(self.retry_delay)
                    continue
                self._record_health(printer_id, PrinterStatus(online=True, paper=None, error=None) if can_report_status(spec) else None)
                return self._finish(job_id, "printed", None, printed_on=printer_id)
        return self._finish(job_id, "failed", last_error)

    def _check_ready(self, printer_id: int, spec: PrinterSpec) -> None:
        if not can_report_status(spec):
            return
        status = query_status(spec)
        self._record_health(printer_id, status)
        if status.paper == "out":
            raise PrintError("hết giấy / out of paper")
        if status.online is False:
            raise PrintError(f"máy in ngoại tuyến / printer offline ({status.error or 'no answer'})")

    def _claim(self, job_id: int) -> bool:
        with self.db.write() as s:
            res = s.execute(
                update(PrintJob).where(PrintJob.id == job_id, PrintJob.status == "pending")
                .values(status="printing", updated_at=clock.now()).execution_options(synchronize_session=False)
            )
            return res.rowcount == 1

    def _attempt_failed(self, job_id: int, error: str) -> None:
        log.warning("print job %s: %s", job_id, error)
        with self.db.write() as s:
            job = s.get(PrintJob, job_id)
            job.attempts += 1
            job.error, job.updated_at = error, clock.now()

    def _finish(self, job_id: int, status: str, error: str | None, printed_on: int | None = None) -> str:
        with self.db.write() as s:
            job = s.get(PrintJob, job_id)
            now = clock.now()
            job.status, job.updated_at = status, now
            if status == "printed":
                job.attempts += 1
                job.printed_at, job.printed_on_id = now, printed_on
            if error is not None:
                job.error = error
        return status

    def _record_health(self, printer_id: int, status: PrinterStatus | None) -> None:
        if status is None:
            return
        with self.db.write() as s:
            p = s.get(Printer, printer_id)
            p.last_status = {"online": status.online, "paper": status.paper, "error": status.error, "reasons": list(status.reasons)}
            if status.online:
                p.last_seen_at = clock.now()

    def check_health(self) -> dict[str, PrinterStatus]:
        """Ask every active printer that can answer; used by the CLI and the periodic check."""
        with self.db.read() as s:
            printers = [(p.id, spec_for(p, self.instance, self.allow)) for p in s.scalars(select(Printer).where(Printer.active))]
        result = {}
        for printer_id, spec in printers:
            status = query_status(spec) if can_report_status(spec) else PrinterStatus(None, None, None)
            if can_report_status(spec):
                self._record_health(printer_id, status)
            result[spec.name] = status
        return result


def print_test_page(spec: PrinterSpec) -> Path | None:
    return send(spec, encode_image(layout.render_test_page(spec.name, spec.width_dots), profile=spec.profile), name=f"test-{spec.name}")
