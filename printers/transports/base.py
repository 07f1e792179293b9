"""What every printer transport does, and the parts several of them share.

A transport is one connection kind (network, usb, serial, file, cups, lp, preview), in the
spirit of python-escpos' printer classes: it opens a printer for a ``PrinterSpec``, sends one
job within the spec's timeout, and, when the kind can, asks the printer how it is. Before it
opens anything it admits the target through the server's allow-list
(``motcua.printer_targets``), so a target outside it is never opened, whoever configured it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from motcua.printer_targets import RESOLVE_TIMEOUT_S, Admitted, TargetRefused, admit
from printers.deadline import run_with_deadline
from printers.encode import profile_for
from printers.quiet import quiet  # before escpos: undoes its import-time logging setup
from printers.spec import PrinterOffline, PrintError, PrinterSpec, PrinterUnavailable, PrintTimeout, TargetNotAllowed
from printers.status import DLE_EOT, UNKNOWN, PrinterStatus, parse_printer_status, status_from

# isort: split
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError


class Transport:
    """One connection kind. Subclasses set ``kind`` and implement ``_open`` and ``send``;
    those that can read the printer's status set ``reports_status`` and implement ``status``."""

    kind: ClassVar[str]
    reports_status: ClassVar[bool] = False

    def locate(self, target: str, instance: Path) -> str:
        """The target of a printer row as the spec takes it (previews: relative to the instance)."""
        return target

    def admit(self, spec: PrinterSpec) -> Admitted:
        """The target as the allow-list lets it be opened, or TargetNotAllowed (nothing opened)."""
        try:
            return admit(spec.connection, spec.target, spec.allow, timeout=min(spec.timeout, RESOLVE_TIMEOUT_S))
        except TargetRefused as exc:
            raise TargetNotAllowed(spec.name, exc) from None

    def open(self, spec: PrinterSpec, *, job_name: str = "motcua") -> Escpos:
        """An opened python-escpos printer; PrinterUnavailable with a reason a person can act on."""
        target = self.admit(spec)
        profile = profile_for(spec.profile, spec.width_dots)
        with quiet():
            try:
                return self._open(spec, target, profile, job_name)
            except DeviceNotFoundError as exc:
                raise PrinterUnavailable(f"printer {spec.name!r} ({spec.connection} {spec.target}): {exc}") from exc
            except (OSError, RuntimeError, ValueError) as exc:  # pyusb (NoBackendError is a ValueError), pyserial, lpstat
                raise PrinterUnavailable(f"printer {spec.name!r} ({spec.connection} {spec.target}): {exc}") from exc

    def _open(self, spec: PrinterSpec, target: Admitted, profile: object, job_name: str) -> Escpos:
        raise NotImplementedError

    def send(self, spec: PrinterSpec, data: bytes, name: str | None) -> Path | None:
        """Deliver ``data`` within ``spec.timeout`` and close; the written file for previews."""
        raise NotImplementedError

    def status(self, spec: PrinterSpec, timeout: float) -> PrinterStatus:
        """How the printer is; never much longer than ``timeout``. Unknown unless the kind can tell."""
        return UNKNOWN


def close_quietly(printer: Escpos) -> None:
    """Close, ignoring errors: a broken connection must not mask the job's own error."""
    with quiet(), contextlib.suppress(Exception):
        printer.close()


def refused_status(exc: TargetNotAllowed) -> PrinterStatus:
    return PrinterStatus(False, None, str(exc), ("target_refused",))


def query_device(transport: Transport, spec: PrinterSpec, timeout: float, prepare: Callable[[Escpos], None],
                 read_one: Callable[[Escpos], bytes]) -> PrinterStatus:
    """Status of a USB or serial printer, through the python-escpos object and its device
    timeouts; a thread guards opening the device (USB reset, serial open), which has none."""

    def query() -> PrinterStatus:
        try:
            printer = transport.open(spec)
        except TargetNotAllowed as exc:
            return refused_status(exc)
        except PrintError as exc:
            return PrinterStatus(False, None, str(exc))

        def ask(n: int) -> int:
            printer._raw(DLE_EOT + bytes((n,)))
            reply = read_one(printer)
            if not reply:
                raise TimeoutError
            return reply[0]

        try:
            prepare(printer)
            return status_from(ask)
        except ValueError as exc:
            return PrinterStatus(None, None, f"not an ESC/POS status reply ({exc})")
        except Exception as exc:  # pyusb/pyserial errors: the device went away
            if isinstance(exc, _timeout_errors()):
                return PrinterStatus(False, None, f"no status reply within {timeout:g} s")
            return PrinterStatus(False, None, f"{type(exc).__name__}: {exc}")
        finally:
            close_quietly(printer)

    try:
        return run_with_deadline(query, timeout * 3 + 1, spec.name)
    except PrintTimeout:
        return PrinterStatus(False, None, f"device did not respond within {timeout * 3 + 1:g} s")


def _timeout_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [TimeoutError]
    try:
        import usb.core

        found.append(usb.core.USBTimeoutError)
    except ImportError:
        pass
    try:
        import serial

        found.append(serial.SerialTimeoutException)
    except ImportError:
        pass
    return tuple(found)


def check_after_job(spec: PrinterSpec, reply: bytes) -> None:
    """The DLE EOT 1 reply that follows a job: raise PrinterOffline when it says offline."""
    try:
        online = parse_printer_status(reply[0])
    except ValueError:
        return  # an answer all the same: the connection carried the whole job
    if not online:
        raise PrinterOffline(
            f"printer {spec.name!r} took the job but reports offline (paper out or cover open?); "
            "it prints when the printer recovers"
        )
