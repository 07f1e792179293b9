"""Turn ESC/POS bytes back into the picture a printer would print.

Understands what the encoder emits: ``GS v 0`` raster blocks (stacked top to bottom,
placed by ``ESC a`` justification), printer-drawn QR codes (``GS ( k``, cn=49), and
``ESC @`` resets. Text, feeds and cuts are ignored. Used by the preview connection
and by tests; no PyPI package does this.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import qrcode
from PIL import Image

_GS_V0 = b"\x1dv0"
_GS_K = b"\x1d(k"
_COMMANDS = re.compile(rb"\x1dv0|\x1d\(k|\x1ba|\x1b@", re.DOTALL)


@dataclass(frozen=True)
class RasterBlock:
    """One ``GS v 0 m xL xH yL yH d1..dk`` command."""

    offset: int
    mode: int
    width_bytes: int
    height: int
    data: bytes

    @property
    def width(self) -> int:
        return self.width_bytes * 8

    def image(self) -> Image.Image:
        # ESC/POS: bit 1 = print a dot. Pillow "1": bit 1 = white, hence "1;I".
        img = Image.frombytes("1", (self.width, self.height), self.data, "raw", "1;I")
        double_w, double_h = self.mode & 1, self.mode & 2
        if double_w or double_h:
            img = img.resize((self.width * (2 if double_w else 1), self.height * (2 if double_h else 1)))
        return img


@dataclass(frozen=True)
class NativeQr:
    """A QR symbol printed by the printer (``GS ( k`` store + print)."""

    offset: int
    data: bytes
    module: int
    ec: int  # 48..51 = L, M, Q, H

    def image(self) -> Image.Image:
        levels = {48: qrcode.constants.ERROR_CORRECT_L, 49: qrcode.constants.ERROR_CORRECT_M,
                  50: qrcode.constants.ERROR_CORRECT_Q, 51: qrcode.constants.ERROR_CORRECT_H}
        qr = qrcode.QRCode(error_correction=levels.get(self.ec, qrcode.constants.ERROR_CORRECT_L), border=0)
        qr.add_data(self.data.decode("utf-8", "replace"))
        qr.make(fit=True)
        matrix = qr.get_matrix()
        n = len(matrix)
        raw = bytes(0 if cell else 255 for row in matrix for cell in row)
        img = Image.frombytes("L", (n, n), raw).resize((n * self.module,) * 2, Image.Resampling.NEAREST)
        return img.convert("1")


@dataclass(frozen=True)
class _Align:
    offset: int
    value: int  # 0 left, 1 centre, 2 right


Item = RasterBlock | NativeQr | _Align


def iter_items(data: bytes, *, strict: bool = True) -> Iterator[Item]:
    """Raster blocks, native QR prints and justification changes, in stream order.

    A truncated raster block (a dropped connection) raises ValueError when ``strict``,
    and ends the stream otherwise.
    """
    pos, n = 0, len(data)
    qr_data, qr_module, qr_ec = b"", 3, 48
    while (m := _COMMANDS.search(data, pos)) is not None:
        start, cmd = m.start(), m.group()
        if cmd == _GS_V0:
            header = data[start + 3 : start + 8]
            if len(header) < 5:
                if strict:
                    raise ValueError(f"truncated GS v 0 header at byte {start}")
                return
            mode, xl, xh, yl, yh = header
            width_bytes, height = xl + xh * 256, yl + yh * 256
            size = width_bytes * height
            body = data[start + 8 : start + 8 + size]
            if len(body) < size:
                if strict:
                    raise ValueError(f"GS v 0 at byte {start} needs {size} bytes, stream has {len(body)}")
                return
            yield RasterBlock(start, mode & 3, width_bytes, height, body)
            pos = start + 8 + size
        elif cmd == _GS_K:
            if start + 5 > n:
                return
            length = data[start + 3] + data[start + 4] * 256
            params = data[start + 5 : start + 5 + length]
            pos = start + 5 + length
            if len(params) < 2 or params[0] != 49:  # cn=49: QR Code; others ignored
                continue
            fn = params[1]
            if fn == 67 and len(params) >= 3:  # module size
                qr_module = max(1, params[2])
            elif fn == 69 and len(params) >= 3:  # error correction level
                qr_ec = params[2]
            elif fn == 80:  # store: cn fn m d1..dk
                qr_data = params[3:]
            elif fn == 81 and qr_data:  # print the stored symbol
                yield NativeQr(start, qr_data, qr_module, qr_ec)
        elif cmd == b"\x1ba":
            if start + 2 < n:
                value = data[start + 2]
                yield _Align(start, value - 48 if value >= 48 else value)
            pos = start + 3
        else:  # ESC @ resets justification
            yield _Align(start, 0)
            pos = start + 2


def iter_raster_blocks(data: bytes, *, strict: bool = True) -> Iterator[RasterBlock]:
    return (item for item in iter_items(data, strict=strict) if isinstance(item, RasterBlock))


def decode(data: bytes, *, width: int | None = None, strict: bool = True) -> Image.Image:
    """Stack everything printable into one mode "1" image.

    ``width`` is the paper's dot width; by default the widest block's. Raises
    ValueError when the stream prints nothing.
    """
    placed: list[tuple[Image.Image, int]] = []
    align = 0
    for item in iter_items(data, strict=strict):
        if isinstance(item, _Align):
            align = item.value if item.value in (0, 1, 2) else 0
        else:
            placed.append((item.image(), align))
    if not placed:
        raise ValueError("no raster image or QR code in the data")
    paper = width or max(img.width for img, _ in placed)
    out = Image.new("1", (paper, sum(img.height for img, _ in placed)), 1)
    y = 0
    for img, al in placed:
        x = {0: 0, 1: (paper - img.width) // 2, 2: paper - img.width}[al]
        out.paste(img, (max(0, x), y))
        y += img.height
    return out
