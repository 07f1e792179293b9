"""ESC/POS bytes for a ticket or any 1-bit image, built with python-escpos' Dummy."""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from PIL import Image

from printers import layout
from printers.quiet import quiet  # before escpos: undoes its import-time logging setup

# isort: split
from escpos.capabilities import CAPABILITIES, BaseProfile, Profile, get_profile_class
from escpos.constants import GS, QR_ECLEVEL_M, QR_MODEL_2
from escpos.printer import Dummy

# Runs of at least this many blank rows are sent as a 1-byte-wide raster block of the
# same height: the paper advances exactly as far, for 1/72 of the bytes. (ESC J would
# be shorter still, but its unit differs between models: 1/203, 1/360 inch...)
_MIN_BLANK_RUN = 8


# DLE EOT n (n = 1..4) is a real-time status query: Epson firmware answers it wherever
# it appears, even inside image data. An answer nobody asked for would be taken for
# the reply to the post-job check, and unread bytes make close() send a TCP reset.
_REALTIME = re.compile(rb"\x10\x04[\x01-\x04]")


def defuse_realtime(data: bytes) -> bytes:
    """Clear one dot wherever raster bytes happen to spell DLE EOT n.

    Only raster payload can contain the sequence (our commands and the QR URL cannot),
    so turning its 0x04 byte into 0x00 removes one dot and changes no length.
    """
    if _REALTIME.search(data) is None:
        return data
    out = bytearray(data)
    for m in _REALTIME.finditer(data):
        out[m.start() + 1] = 0x00
    return bytes(out)


class ProfileError(ValueError):
    """The python-escpos profile cannot print this job."""


@lru_cache(maxsize=64)
def profile_for(name: str, width_dots: int) -> BaseProfile:
    """The named python-escpos profile, checked against ``width_dots``.

    A profile whose media width is "Unknown" (e.g. "default") gets ``width_dots`` filled
    in, on a copy: escpos then checks image widths itself and no longer prints its
    "media.width.pixel field ... not set" warning on every image (escpos.py:218).
    """
    if name not in CAPABILITIES["profiles"]:
        known = ", ".join(sorted(CAPABILITIES["profiles"]))
        raise ProfileError(f"unknown python-escpos profile {name!r}; known: {known}")
    base = get_profile_class(name)
    data = base.profile_data
    if not data.get("features", {}).get("bitImageRaster", False):
        raise ProfileError(f"profile {name!r} cannot print raster images (GS v 0)")
    pixels = data.get("media", {}).get("width", {}).get("pixels")
    if isinstance(pixels, int) and width_dots > pixels:
        raise ProfileError(f"profile {name!r} prints at most {pixels} dots per line, not {width_dots}")
    if not isinstance(pixels, int):
        data = copy.deepcopy(data)
        data.setdefault("media", {}).setdefault("width", {})["pixels"] = width_dots
    # Escpos() takes a profile object only if it is a capabilities.Profile, whose
    # __init__ replaces the features with {} (cut() would then emit nothing): bypass
    # it so that every attribute comes from profile_data.
    attrs = {"profile_data": data, "columns": None, "__init__": _keep_profile_data}
    return type(f"{base.__name__}{width_dots}", (Profile,), attrs)()


def _keep_profile_data(self: BaseProfile) -> None:
    pass


def _printer(profile: str, width_dots: int) -> Dummy:
    return Dummy(profile=profile_for(profile, width_dots))


def _blank_runs(img: Image.Image) -> list[tuple[int, int, bool]]:
    """Split rows into (top, bottom, blank) bands; only long blank runs count as blank."""
    width_bytes = img.width // 8  # check_width() guarantees whole bytes
    raw = img.tobytes()  # mode "1" packed: bit 1 = white
    blank_row = b"\xff" * width_bytes
    bands: list[tuple[int, int, bool]] = []
    start, y, h = 0, 0, img.height
    while y < h:
        if raw[y * width_bytes : (y + 1) * width_bytes] != blank_row:
            y += 1
            continue
        run_end = y
        while run_end < h and raw[run_end * width_bytes : (run_end + 1) * width_bytes] == blank_row:
            run_end += 1
        if run_end - y >= _MIN_BLANK_RUN:
            if y > start:
                bands.append((start, y, False))
            bands.append((y, run_end, True))
            start = run_end
        y = run_end
    if start < h:
        bands.append((start, h, False))
    return bands


def _raster(printer: Dummy, img: Image.Image) -> None:
    for top, bottom, blank in _blank_runs(img):
        if blank:
            height = bottom - top
            printer._raw(GS + b"v0\x00\x01\x00" + bytes((height & 0xFF, height >> 8)) + bytes(height))
        else:
            printer.image(img.crop((0, top, img.width, bottom)), impl="bitImageRaster", center=False)


def encode_image(img: Image.Image, *, profile: str = "default", cut: bool = True) -> bytes:
    """Init, the image as GS v 0 raster, then feed and cut (test pages, fallbacks)."""
    layout.check_width(img.width)
    if img.mode != "1":
        # escpos would dither grey (Floyd-Steinberg); a plain threshold keeps text crisp.
        img = img.convert("L").point(lambda p: 255 if p > 128 else 0, mode="1")
    with quiet():
        printer = _printer(profile, img.width)
        printer.hw("INIT")  # also resets ESC a: GS v 0 obeys justification
        _raster(printer, img)
        if cut:
            printer.cut()
        return defuse_realtime(printer.output)


def encode_ticket(
    content: layout.TicketContent,
    *,
    width_dots: int,
    profile: str = "default",
    native_qr: bool = False,
    cut: bool = True,
) -> bytes:
    """A ticket ready for the printer.

    With ``native_qr`` the printer draws the QR code (``GS ( k``: ~80 bytes instead of
    a few KB of raster) between two raster parts; use it only for firmware known to
    support it. A profile without the qrCode feature falls back to the image QR.
    """
    with quiet():
        printer = _printer(profile, width_dots)
        printer.hw("INIT")
        if native_qr and printer.profile.supports("qrCode"):
            above, below = layout.render_ticket_around_qr(content, width_dots)
            _raster(printer, above)
            # qr(native=True) refuses center=True (escpos.py:382): justify instead.
            printer.set(align="center")
            printer.qr(
                content.status_url,
                native=True,
                ec=QR_ECLEVEL_M,
                model=QR_MODEL_2,
                size=layout.native_qr_module_size(content.status_url, width_dots),
            )
            printer.set(align="left")
            _raster(printer, below)
        else:
            _raster(printer, layout.render_ticket(content, width_dots, include_qr=True))
        if cut:
            printer.cut()
        return defuse_realtime(printer.output)
