"""Printer health: the replies to real-time status queries (DLE EOT n, Epson ESC/POS) and
what they mean. Asking is each transport's business (printers.transports); this module only
reads the answers, so it imports nothing of the printers room.

python-escpos' is_online()/paper_status() are not used: against a printer that
accepts and never answers, is_online() raises TimeoutError after the socket timeout
(60 s by default), and paper_status() reports 2 ("adequate") when it reads 0 bytes
(escpos.py:1294-1312), i.e. a dead printer has plenty of paper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

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


def status_from(ask: Callable[[int], int]) -> PrinterStatus:
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
