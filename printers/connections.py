"""Sending to a printer and asking how it is, whatever its connection: each operation looks up
the connection's transport in ``printers.transports.TRANSPORTS`` (one module per kind).

Every send is bounded by ``PrinterSpec.timeout``; the exceptions (``printers.spec``) tell the
spooler whether paper may have moved. Every transport admits its target through the server's
allow-list before it opens anything.
"""

from __future__ import annotations

from pathlib import Path

from motcua.printer_targets import Admitted
from printers.spec import PrinterSpec
from printers.status import PrinterStatus
from printers.transports import transport_for

# isort: split
from escpos.escpos import Escpos


def locate(connection: str, target: str, instance: Path) -> str:
    """A printer row's target as a PrinterSpec takes it (a preview folder relative to the instance)."""
    return transport_for(connection).locate(target, instance)


def admit(spec: PrinterSpec) -> Admitted:
    """The printer's target as the allow-list lets it be opened, or TargetNotAllowed."""
    return transport_for(spec.connection).admit(spec)


def open_connection(spec: PrinterSpec, *, job_name: str = "motcua") -> Escpos:
    """An opened python-escpos printer for ``spec`` (a Dummy for previews).

    Raises PrinterUnavailable with a reason a person can act on.
    """
    return transport_for(spec.connection).open(spec, job_name=job_name)


def send(spec: PrinterSpec, data: bytes, *, name: str | None = None) -> Path | None:
    """Deliver ``data`` to the printer within ``spec.timeout`` and close.

    ``name`` names the job (CUPS title, preview file). Returns the written PNG for
    preview connections, None otherwise.
    """
    return transport_for(spec.connection).send(spec, data, name)


def can_report_status(spec: PrinterSpec) -> bool:
    """Whether the printer can be asked how it is (network, USB, serial)."""
    return transport_for(spec.connection).reports_status


def query_status(spec: PrinterSpec, *, timeout: float | None = None) -> PrinterStatus:
    """Ask the printer how it is; never takes much longer than ``timeout``.

    Default timeout: ``spec.timeout``. A network printer that accepts but does not
    answer is reported offline; note that many network printers serve one connection
    at a time, so do not query while a job to the same printer is being sent.
    File, CUPS, lp and preview connections cannot tell: all fields None. A target outside
    the allow-list is reported offline with the reason ``target_refused``.
    """
    return transport_for(spec.connection).status(spec, spec.timeout if timeout is None else timeout)
