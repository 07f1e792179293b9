"""Network printers (raw TCP, port 9100 by default), connected only at an admitted address."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path

from motcua.printer_targets import Admitted, network_address
from printers.deadline import remaining
from printers.spec import JobInterrupted, PrinterSpec, PrintTimeout, TargetNotAllowed
from printers.status import DLE_EOT, PrinterStatus, status_from
from printers.transports.base import Transport, check_after_job, close_quietly, refused_status

# isort: split
from escpos.constants import RT_STATUS_ONLINE
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Network


class AdmittedNetwork(Network):
    """python-escpos' Network, connecting to the addresses the allow-list admitted (IPv4 or
    IPv6) instead of looking the host name up again, which DNS could answer otherwise."""

    def __init__(self, addresses: tuple[str, ...], port: int, *, timeout: float, **kwargs: object) -> None:
        super().__init__(addresses[0], port, timeout=timeout, **kwargs)
        self.addresses = addresses

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        self.device = None
        deadline, last = time.monotonic() + self.timeout, None
        for address in self.addresses:
            try:
                self.device = socket.create_connection((address, self.port), timeout=remaining(deadline))
                self.device.settimeout(self.timeout)  # for each operation after, as escpos' own Network
                return
            except OSError as exc:  # TimeoutError included, also from remaining()
                last = exc
        raise DeviceNotFoundError(f"Could not open socket for {self.host}:\n{last}")


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


def _drain(sock: socket.socket) -> None:
    """Read what the printer sent unasked (status back, late replies): closing a socket
    with unread input sends a TCP reset, and a reset can make the printer drop the end
    of the job still in its buffer."""
    sock.setblocking(False)
    with contextlib.suppress(OSError):  # nothing more to read, or already gone: job is done
        while sock.recv(4096):
            pass


class NetworkTransport(Transport):
    kind = "network"
    reports_status = True

    def _open(self, spec: PrinterSpec, target: Admitted, profile: object, job_name: str) -> Escpos:
        # escpos' own default timeout is 60 s
        printer = AdmittedNetwork(target.addresses, target.port, timeout=spec.timeout, profile=profile)
        printer.open()
        return printer

    def send(self, spec: PrinterSpec, data: bytes, name: str | None) -> Path | None:
        deadline = time.monotonic() + spec.timeout
        printer = self.open(spec)
        sock: socket.socket = printer.device  # type: ignore[assignment]
        try:
            sock.settimeout(remaining(deadline))
            sock.sendall(data)
            if spec.confirm:
                sock.settimeout(remaining(deadline))
                sock.sendall(RT_STATUS_ONLINE)
                reply = sock.recv(1)
                if not reply:
                    raise JobInterrupted(f"printer {spec.name!r} closed the connection during the job")
                _drain(sock)
                check_after_job(spec, reply)
            else:
                _drain(sock)
        except TimeoutError as exc:
            raise PrintTimeout(f"printer {spec.name!r} did not take the job within {spec.timeout:g} s") from exc
        except OSError as exc:  # reset, broken pipe
            raise JobInterrupted(f"printer {spec.name!r}: connection lost during the job: {exc}") from exc
        finally:
            close_quietly(printer)
        return None

    def status(self, spec: PrinterSpec, timeout: float) -> PrinterStatus:
        deadline = time.monotonic() + timeout
        try:
            target = self.admit(spec)
        except TargetNotAllowed as exc:
            return refused_status(exc)
        host, port = network_address(spec.target)
        where = f"{host}:{port}"
        try:
            sock = socket.create_connection((target.addresses[0], target.port), timeout=timeout)
        except ConnectionRefusedError:
            return PrinterStatus(False, None, f"connection refused by {where}")
        except TimeoutError:
            return PrinterStatus(False, None, f"no connection to {where} within {timeout:g} s")
        except OSError as exc:
            return PrinterStatus(False, None, f"cannot reach {where}: {exc.strerror or exc}")
        with sock:
            try:
                return status_from(lambda n: _ask_socket(sock, n, deadline))
            except TimeoutError:
                # Accepts but does not answer: hung, or busy with another connection's job.
                return PrinterStatus(False, None, f"no status reply within {timeout:g} s")
            except OSError as exc:
                return PrinterStatus(False, None, f"connection lost: {exc}")
            except ValueError as exc:
                return PrinterStatus(None, None, f"not an ESC/POS status reply ({exc})")
