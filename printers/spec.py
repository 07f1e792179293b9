"""A configured printer (``PrinterSpec``) and what can go wrong sending to it.

Exceptions tell the spooler whether paper may have moved:

- ``PrinterUnavailable``: nothing was sent (cannot connect / open). Safe to retry.
  ``TargetNotAllowed``, one of them: the target is outside the server's allow-list; retrying
  cannot help.
- ``PrintTimeout`` / ``JobInterrupted``: some bytes may have reached the printer, so a
  retry can print a second, partial or stale ticket. The spooler decides.
- ``PrinterOffline``: the whole job reached the printer, which then reported itself
  offline (paper out, cover open): the ticket sits in its buffer and prints when the
  printer recovers, possibly long after the citizen left.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from motcua.printer_targets import KINDS, Allowlist, TargetRefused, parse_target
from printers import layout
from printers.encode import profile_for


class PrintError(Exception):
    """A job could not be delivered."""


class PrinterUnavailable(PrintError):
    """Could not connect to or open the printer; nothing was sent."""


class TargetNotAllowed(PrinterUnavailable):
    """The printer's target is outside the allow-list; nothing was opened."""

    def __init__(self, printer: str, refused: TargetRefused) -> None:
        self.code = refused.code
        self.message = f"Máy in '{printer}': {refused.message}"
        self.message_en = f"printer '{printer}': {refused.message_en}"
        super().__init__(f"{self.message} / {self.message_en}")


class PrintTimeout(PrintError, TimeoutError):
    """The printer stopped taking data or answering within the timeout."""


class JobInterrupted(PrintError):
    """The connection broke (or the printer went silent) during the job."""


class PrinterOffline(PrintError):
    """The job was delivered but the printer reports offline right after it."""


@dataclass
class PrinterSpec:
    """One configured printer.

    ``target`` by connection: network "host[:port]" (port 9100 by default, IPv6 as
    "[addr]:port"); usb "VID:PID" in hex, optionally ":IN_EP:OUT_EP" (python-escpos
    assumes 0x82/0x01); serial "device@baud", e.g. "/dev/ttyUSB0@115200" (9600 when
    omitted; a raster ticket needs tens of seconds at 9600, so set the printer to
    115200); file: a path or device node (/dev/usb/lp0); cups/lp: the queue name;
    preview: a folder that receives one PNG per job.

    ``allow``: where this server lets printers print (``[printer_targets]`` in config.toml);
    the transport refuses to open a target outside it. The default admits the usual device
    nodes and LAN printer ports, and no preview folder.

    ``confirm``: after a network, USB or serial job, ask the printer for its status
    (DLE EOT 1) so that a connection that died mid-job is noticed. Turn it off only
    for printers that never answer status queries.
    """

    name: str
    connection: str
    target: str
    profile: str = "default"
    width_dots: int = 576
    native_qr: bool = False
    timeout: float = 4.0
    confirm: bool = True
    allow: Allowlist = field(default_factory=Allowlist, repr=False)

    def __post_init__(self) -> None:
        if self.connection not in KINDS:
            raise ValueError(f"connection must be one of {', '.join(KINDS)}, got {self.connection!r}")
        if not self.target.strip():
            raise ValueError(f"printer {self.name!r}: empty target")
        if not self.timeout > 0:
            raise ValueError(f"printer {self.name!r}: timeout must be positive")
        layout.check_width(self.width_dots)
        profile_for(self.profile, self.width_dots)  # unknown or too narrow: fail at config time
        parse_target(self.connection, self.target)
