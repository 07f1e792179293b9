"""USB printers by vendor and product id (pyusb, through python-escpos' Usb)."""

from __future__ import annotations

from pathlib import Path

from motcua.printer_targets import Admitted
from printers.deadline import off_the_hub
from printers.spec import JobInterrupted, PrinterSpec, PrinterUnavailable, PrintTimeout
from printers.status import PrinterStatus
from printers.transports.base import Transport, check_after_job, close_quietly, query_device

# isort: split
from escpos.constants import RT_STATUS_ONLINE
from escpos.escpos import Escpos
from escpos.printer import Usb
from escpos.printer import usb as escpos_usb


class UsbTransport(Transport):
    kind = "usb"
    reports_status = True

    def _open(self, spec: PrinterSpec, target: Admitted, profile: object, job_name: str) -> Escpos:
        if not escpos_usb.is_usable():
            raise PrinterUnavailable("usb printers need pyusb (pip install python-escpos[usb])")
        vid, pid, in_ep, out_ep = target.extra
        eps = {k: v for k, v in (("in_ep", in_ep), ("out_ep", out_ep)) if v is not None}
        # pyusb timeouts are in milliseconds; escpos' default 0 waits forever.
        printer = Usb(vid, pid, timeout=int(spec.timeout * 1000), profile=profile, **eps)
        printer.open()
        printer.device.default_timeout = int(spec.timeout * 1000)  # reads (status)
        return printer

    def send(self, spec: PrinterSpec, data: bytes, name: str | None) -> Path | None:
        off_the_hub(lambda: self._send(spec, data))
        return None

    def _send(self, spec: PrinterSpec, data: bytes) -> None:
        import usb.core  # pyusb; present when the usb driver is usable

        printer = self.open(spec)
        try:
            printer._raw(data)
            if spec.confirm:
                printer._raw(RT_STATUS_ONLINE)
                reply = bytes(printer._read())
                if not reply:
                    raise JobInterrupted(f"printer {spec.name!r} did not answer after the job")
                check_after_job(spec, reply)
        except usb.core.USBTimeoutError as exc:
            raise PrintTimeout(f"printer {spec.name!r}: USB transfer timed out") from exc
        except usb.core.USBError as exc:
            raise JobInterrupted(f"printer {spec.name!r}: {exc}") from exc
        finally:
            close_quietly(printer)

    def status(self, spec: PrinterSpec, timeout: float) -> PrinterStatus:
        return query_device(self, spec, timeout, lambda printer: None, lambda printer: bytes(printer._read()))
