"""Printers the operating system already knows: a device node or file (``file``), and CUPS
queues, through pycups (``cups``) or the ``lp`` command (``lp``). None can tell its status."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from motcua.printer_targets import Admitted
from printers.deadline import run_with_deadline
from printers.quiet import quiet
from printers.spec import JobInterrupted, PrinterSpec, PrinterUnavailable, PrintTimeout
from printers.transports.base import Transport, close_quietly

# isort: split
from escpos.escpos import Escpos
from escpos.printer import LP, CupsPrinter, File
from escpos.printer import cups as escpos_cups


def _send_plain(transport: Transport, spec: PrinterSpec, data: bytes, name: str | None) -> None:
    printer = transport.open(spec, job_name=name or "motcua")
    try:
        with quiet():
            printer._raw(data)
    except OSError as exc:
        raise JobInterrupted(f"printer {spec.name!r}: {exc}") from exc
    finally:
        close_quietly(printer)  # CupsPrinter submits the job here


class FileTransport(Transport):
    kind = "file"

    def _open(self, spec: PrinterSpec, target: Admitted, profile: object, job_name: str) -> Escpos:
        # The admitted path has its symlinks followed: a link swapped after the check changes nothing.
        printer = File(str(target.path), profile=profile)
        printer.open()
        return printer

    def send(self, spec: PrinterSpec, data: bytes, name: str | None) -> Path | None:
        self.admit(spec)  # refused at once, not after a thread's deadline
        # A write to /dev/usb/lp0 of a printer that is off blocks without a timeout of its own.
        run_with_deadline(lambda: _send_plain(self, spec, data, name), spec.timeout, f"{spec.connection} {spec.target}")
        return None


class CupsTransport(Transport):
    kind = "cups"

    def _open(self, spec: PrinterSpec, target: Admitted, profile: object, job_name: str) -> Escpos:
        if not escpos_cups.is_usable():
            raise PrinterUnavailable(
                f"printer {spec.name!r}: the 'cups' connection needs pycups, which is not "
                "installed (pip install pycups; it builds against libcups2-dev). "
                "The 'lp' connection needs only the lp command."
            )
        printer = CupsPrinter(target.name, profile=profile)
        printer.open(job_name=job_name)
        return printer

    def send(self, spec: PrinterSpec, data: bytes, name: str | None) -> Path | None:
        self.admit(spec)
        # A CUPS submission has no timeout of its own.
        run_with_deadline(lambda: _send_plain(self, spec, data, name), spec.timeout, f"{spec.connection} {spec.target}")
        return None


def _require_lp() -> str:
    path = shutil.which("lp")
    if path is None:
        raise PrinterUnavailable("the lp command is not installed (Debian: apt install cups-client)")
    return path


class LpTransport(Transport):
    kind = "lp"

    def _open(self, spec: PrinterSpec, target: Admitted, profile: object, job_name: str) -> Escpos:
        _require_lp()
        printer = LP(target.name, profile=profile)
        printer.open(job_name=job_name)
        return printer

    def send(self, spec: PrinterSpec, data: bytes, name: str | None) -> Path | None:
        # Not escpos' LP: it waits on lp without a timeout and ignores its exit status.
        queue = self.admit(spec).name
        cmd = [_require_lp(), "-d", queue, "-o", "raw", "-t", name or "motcua"]
        try:
            done = subprocess.run(cmd, input=data, capture_output=True, timeout=spec.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PrintTimeout(f"printer {spec.name!r}: lp did not finish within {spec.timeout:g} s") from exc
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
            raise PrinterUnavailable(f"printer {spec.name!r}: lp: {reason}")
        return None
