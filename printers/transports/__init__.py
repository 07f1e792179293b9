"""Printer transports: one module per connection kind, one table from kind to transport.

Adding a kind: a module here with a ``Transport`` subclass (``_open``, ``send``, and ``status``
with ``reports_status = True`` when the printer can be asked), its line in ``TRANSPORTS``, and
its target rule in ``motcua.printer_targets.RULES`` (what a target is, what the allow-list lets
through).
"""

from __future__ import annotations

from motcua.printer_targets import KINDS
from printers.transports.base import Transport
from printers.transports.files import CupsTransport, FileTransport, LpTransport
from printers.transports.network import NetworkTransport
from printers.transports.preview import PreviewTransport
from printers.transports.serial import SerialTransport
from printers.transports.usb import UsbTransport

TRANSPORTS: dict[str, Transport] = {
    t.kind: t
    for t in (NetworkTransport(), UsbTransport(), SerialTransport(), FileTransport(), CupsTransport(), LpTransport(), PreviewTransport())
}
if set(TRANSPORTS) != set(KINDS):
    raise RuntimeError("every printer connection kind needs a transport and a target rule")


def transport_for(kind: str) -> Transport:
    return TRANSPORTS[kind]
