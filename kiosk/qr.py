"""QR codes for the ticket's status page, as SVG (crisp on any kiosk screen) or PNG."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

# M survives a smudged or creased print; border 4 is the quiet zone scanners expect.
_BORDER = 4


def _code(data: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=_BORDER, box_size=10)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def svg(data: str) -> bytes:
    """A single-path SVG with a white background (dark-themed pages would otherwise eat the quiet zone)."""
    image = _code(data).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    return image.to_string(encoding="utf-8")


def png(data: str, box_size: int = 8) -> bytes:
    qr = _code(data)
    qr.box_size = box_size
    buf = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    return buf.getvalue()
