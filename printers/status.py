"""Printer health through real-time status queries (DLE EOT n, Epson ESC/POS).

python-escpos' is_online()/paper_status() are not used: against a printer that
accepts and never answers, is_online() raises TimeoutError after the socket timeout
(60 s by default), and paper_status() reports 2 ("adequate") when it reads 0 bytes
(escpos.py:1294-1312), i.e. a dead printer has plenty of paper.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from printers.connections import (
    PrintError,
    PrinterSpec,
    PrintTimeout,
    close_quietly,
    network_address,
    open_connection,
    run_with_deadline,
)

Paper = Literal["ok", "near_end", "out"]

DLE_EOT = b"\x10\x04"
# Every DLE EOT reply has bit 1 and bit 4 set and bits 0 and 7 clear.
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12


@dataclass(frozen=True)
class PrinterStatus:
    """``None`` means unknown: the connection cannot tell (file, CUPS, preview)."""

    online: bool | None
    paper: Paper | None
    error: str | None
    reasons: tuple[str, ...] = field(default=())

    @property
    def ready(self) -> bool | None:
        """Whether a job sent now would print (None: cannot tell)."""
        if self.online is None:
            return None
        return self.online and self.paper != "out"


UNKNOWN = PrinterStatus(online=None, paper=None, error=None)


def _check(n: int, byte: int) -> int:
    if byte & _FIXED_MASK != _FIXED_BITS:
        raise ValueError(f"not a DLE EOT {n} reply: 0x{byte:02x}")
    return byte


def parse_printer_status(byte: int) -> bool:
    """DLE EOT 1: True when online (bit 3 clear)."""
    return not _check(1, byte) & 0x08


def parse_offline_cause(byte: int) -> tuple[str, ...]:
    """DLE EOT 2: why the printer is offline."""
    _check(2, byte)
    bits = {0x04: "cover_open", 0x08: "feed_button", 0x20: "paper_end", 0x40: "error"}
    return tuple(name for bit, name in bits.items() if byte & bit)


def parse_error_cause(byte: int) -> tuple[str, ...]:
    """DLE EOT 3: which error."""
    _check(3, byte)
    bits = {0x04: "mechanical_error", 0x08: "cutter_error", 0x20: "unrecoverable_error",
            0x40: "auto_recoverable_error"}
    return tuple(name for bit, name in bits.items() if byte & bit)


def parse_paper_status(byte: int) -> Paper:
    """DLE EOT 4, roll paper sensors: bits 5-6 paper end, bits 2-3 near end."""
    _check(4, byte)
    if byte & 0x60:
        return "out"
    if byte & 0x0C:
        return "near_end"
    return "ok"


def _ask_socket(sock: socket.socket, n: int, deadline: float) -> int:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    sock.settimeout(left)
    sock.sendall(DLE_EOT + bytes((n,)))
    reply = sock.recv(1)
    if not reply:
        raise ConnectionResetError("printer closed the connection")
    return reply[0]


def _status_from(ask: Callable[[int], int]) -> PrinterStatus:
    """Ask 1 (online), 4 (paper) and, when offline, 2 and 3 (why)."""
    online = parse_printer_status(ask(1))
    paper = parse_paper_status(ask(4))
    reasons: tuple[str, ...] = ()
    if not online:
        reasons = parse_offline_cause(ask(2))
        if "error" in reasons:
            reasons += parse_error_cause(ask(3))
    if paper == "out" and "paper_end" not in reasons:
        reasons += ("paper_end",)
    error = ", ".join(r.replace("_", " ") for r in reasons) or None
    if not online and error is None:
        error = "offline"
    return PrinterStatus(online=online, paper=paper, error=error, reasons=reasons)


def _query_network(spec: PrinterSpec, timeout: float) -> PrinterStatus:
    host, port = network_address(spec.target)
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        return PrinterStatus(False, None, f"connection refused by {host}:{port}")
    except TimeoutError:
        return PrinterStatus(False, None, f"no connection to {host}:{port} within {timeout:g} s")
    except OSError as exc:
        return PrinterStatus(False, None, f"cannot reach {host}:{port}: {exc.strerror or exc}")
    with sock:
        try:
            return _status_from(lambda n: _ask_socket(sock, n, deadline))
        except TimeoutError:
            # Accepts but does not answer: hung, or busy with another connection's job.
            return PrinterStatus(False, None, f"no status reply within {timeout:g} s")
        except OSError as exc:
            return PrinterStatus(False, None, f"connection lost: {exc}")
        except ValueError as exc:
            return PrinterStatus(None, None, f"not an ESC/POS status reply ({exc})")


def _query_device(spec: PrinterSpec, timeout: float) -> PrinterStatus:
    """USB and serial, through the python-escpos object with its device timeouts."""
    try:
        printer = open_connection(spec)
    except PrintError as exc:
        return PrinterStatus(False, None, str(exc))

    def ask(n: int) -> int:
        printer._raw(DLE_EOT + bytes((n,)))
        # escpos' Serial._read() is read(16), which always waits out the timeout
        reply = printer.device.read(1) if spec.connection == "serial" else bytes(printer._read())
        if not reply:
            raise TimeoutError
        return reply[0]

    try:
        if spec.connection == "serial":
            printer.device.timeout = timeout
            printer.device.write_timeout = timeout
            printer.device.reset_input_buffer()
        return _status_from(ask)
    except ValueError as exc:
        return PrinterStatus(None, None, f"not an ESC/POS status reply ({exc})")
    except Exception as exc:  # pyusb/pyserial errors: the device went away
        if isinstance(exc, _timeout_errors()):
            return PrinterStatus(False, None, f"no status reply within {timeout:g} s")
        return PrinterStatus(False, None, f"{type(exc).__name__}: {exc}")
    finally:
        close_quietly(printer)


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


def query_status(spec: PrinterSpec, *, timeout: float | None = None) -> PrinterStatus:
    """Ask the printer how it is; never takes much longer than ``timeout``.

    Default timeout: ``spec.timeout``. A network printer that accepts but does not
    answer is reported offline; note that many network printers serve one connection
    at a time, so do not query while a job to the same printer is being sent.
    File, CUPS, lp and preview connections cannot tell: all fields None.
    """
    timeout = spec.timeout if timeout is None else timeout
    if spec.connection == "network":
        return _query_network(spec, timeout)
    if spec.connection in ("usb", "serial"):
        try:
            # Device reads have their own timeouts; the thread guards opening the
            # device (USB reset, serial open) which has none.
            return run_with_deadline(lambda: _query_device(spec, timeout), timeout * 3 + 1, spec.name)
        except PrintTimeout:
            return PrinterStatus(False, None, f"device did not respond within {timeout * 3 + 1:g} s")
    return UNKNOWN
