"""Output drivers for boards without a browser.

A driver turns lines of text into what one kind of board understands. The agent calls
`show(lines)` whenever the board should change (never more than needed: identical frames
are skipped by the agent) and `announce(call, text)` once per call id. To support another
LED protocol, subclass `Driver`, implement `show`, and register it in `DRIVERS` (see
`display/agent/README.md`).
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Sequence
from typing import Any, ClassVar, TextIO

__all__ = ["DRIVERS", "Driver", "SerialDriver", "StdoutDriver", "ascii_fold", "fit"]

_EXTRA_FOLDS = str.maketrans({"Đ": "D", "đ": "d", "–": "-", "—": "-", "→": ">", "“": '"', "”": '"', "‘": "'", "’": "'"})


def ascii_fold(text: str) -> str:
    """Vietnamese without tone marks: most LED controllers only have an ASCII font."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA_FOLDS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.encode("ascii", "replace").decode("ascii")


def fit(lines: Sequence[str], width: int, height: int) -> list[str]:
    """Exactly `height` lines of exactly `width` characters (cut or padded)."""
    out = [line[:width].ljust(width) for line in list(lines)[:height]]
    out += [" " * width] * (height - len(out))
    return out


class Driver:
    """A board: `width` × `height` characters; `ascii_only` boards get folded text."""

    name: ClassVar[str] = ""
    width: int = 20
    height: int = 2
    ascii_only: bool = True

    def show(self, lines: Sequence[str]) -> None:
        raise NotImplementedError

    def announce(self, call: dict[str, Any], text: str) -> None:
        """One call, once. Boards that only show text do nothing extra (the default)."""

    def close(self) -> None:
        """Release the port."""

    def prepare(self, lines: Sequence[str]) -> list[str]:
        return fit([ascii_fold(x) if self.ascii_only else x for x in lines], self.width, self.height)


class StdoutDriver(Driver):
    """Prints each frame (and each announcement) as text: for trying out, logs and tests."""

    name = "stdout"

    def __init__(self, stream: TextIO | None = None, *, width: int = 32, height: int = 4, ascii_only: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.width, self.height, self.ascii_only = width, height, ascii_only

    def show(self, lines: Sequence[str]) -> None:
        border = "+" + "-" * self.width + "+"
        frame = [border, *(f"|{line}|" for line in self.prepare(lines)), border]
        self.stream.write("\n".join(frame) + "\n")
        self.stream.flush()

    def announce(self, call: dict[str, Any], text: str) -> None:
        self.stream.write(f"ANNOUNCE {call.get('id')} {call.get('code')} -> {call.get('counter')}: {text}\n")
        self.stream.flush()


class SerialDriver(Driver):
    """Text boards and pole displays on a serial line (RS-232/RS-485, USB adapters).

    The frame is the common "text mode" of CD5220-compatible customer displays and many
    cheap LED controllers: form feed (0x0C, clear and go home), then each line padded to
    the board's width, separated by CR LF, in ASCII. Boards that need another framing are
    a subclass away (override `encode`).
    """

    name = "serial"
    CLEAR = b"\x0c"

    def __init__(self, port: str, baud: int = 9600, *, width: int = 20, height: int = 2, timeout: float = 2.0) -> None:
        import serial  # pyserial, installed with python-escpos[serial]

        self.width, self.height = width, height
        # serial_for_url also takes URLs ("loop://", "socket://host:port", "rfc2217://…")
        # so boards behind a serial-to-Ethernet converter work too.
        self.port = serial.serial_for_url(port, baudrate=baud, timeout=timeout, write_timeout=timeout)

    def encode(self, lines: Sequence[str]) -> bytes:
        return self.CLEAR + "\r\n".join(self.prepare(lines)).encode("ascii", "replace")

    def show(self, lines: Sequence[str]) -> None:
        self.port.write(self.encode(lines))
        self.port.flush()

    def close(self) -> None:
        self.port.close()


DRIVERS: dict[str, type[Driver]] = {StdoutDriver.name: StdoutDriver, SerialDriver.name: SerialDriver}
