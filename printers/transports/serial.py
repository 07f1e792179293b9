"""Serial printers ("/dev/ttyUSB0@115200"), opened at the admitted device path."""

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
from escpos.printer import Serial
from escpos.printer import serial as escpos_serial


class SerialTransport(Transport):
    kind = "serial"
    reports_status = True

    def _open(self, spec: PrinterSpec, target: Admitted, profile: object, job_name: str) -> Escpos:
        if not escpos_serial.is_usable():
            raise PrinterUnavailable("serial printers need pyserial (pip install python-escpos[serial])")
        printer = Serial(str(target.path), baudrate=target.baud, timeout=spec.timeout, profile=profile)
        printer.open()
        return printer

    def send(self, spec: PrinterSpec, data: bytes, name: str | None) -> Path | None:
        off_the_hub(lambda: self._send(spec, data))
        return None

    def _send(self, spec: PrinterSpec, data: bytes) -> None:
        import serial  # pyserial; present when the serial driver is usable

        printer = self.open(spec)
        port = printer.device
        try:
            # 10 bits per byte on the wire: at 9600 baud a 40 KB ticket takes ~42 s.
            port.write_timeout = spec.timeout + len(data) * 10 / port.baudrate
            port.write(data)
            if spec.confirm:
                port.timeout = spec.timeout
                port.reset_input_buffer()
                port.write(RT_STATUS_ONLINE)
                # read(1), not escpos' _read(): read(16) always waits out the timeout.
                reply = port.read(1)
                if not reply:
                    raise JobInterrupted(f"printer {spec.name!r} did not answer after the job (off or unplugged?)")
                check_after_job(spec, reply)
        except serial.SerialTimeoutException as exc:
            raise PrintTimeout(f"printer {spec.name!r}: serial write timed out") from exc
        except serial.SerialException as exc:
            raise JobInterrupted(f"printer {spec.name!r}: {exc}") from exc
        finally:
            close_quietly(printer)

    def status(self, spec: PrinterSpec, timeout: float) -> PrinterStatus:
        def prepare(printer: Escpos) -> None:
            printer.device.timeout = timeout
            printer.device.write_timeout = timeout
            printer.device.reset_input_buffer()

        # escpos' Serial._read() is read(16), which always waits out the timeout
        return query_device(self, spec, timeout, prepare, lambda printer: printer.device.read(1))
