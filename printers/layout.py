"""Ticket and test-page layout, drawn with Pillow at the printer's dot width.

Thermal printers' code pages cover Vietnamese badly, so every glyph is rendered here
and the printer only receives a 1-bit raster. Everything is measured in printer dots
(203 dpi: 576 dots = 72 mm printable on 80 mm paper, 384 dots on 58 mm paper).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Literal

import qrcode
from PIL import Image, ImageDraw, ImageFont

from printers.fonts import font

Align = Literal["left", "center", "right"]

# Grey anti-aliased edges at or below this level become black dots. A little above
# the midpoint: thermal dots are small and thin strokes would otherwise break up.
_THRESHOLD = 150
# Tallest and deepest Vietnamese glyphs: stacked marks on capitals, dot below.
_TALL = "ỖẪẬỸẶỂ"
_DEEP = "gjpqyỵẠ"

QR_CAPTION = "Quét mã QR để theo dõi lượt gọi"


def nfc(text: str) -> str:
    """NFC-normalise and collapse runs of spaces (keeps explicit line breaks)."""
    text = unicodedata.normalize("NFC", text)
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


@dataclass(frozen=True, kw_only=True)
class TicketContent:
    """What a queue ticket says. ``issued_at`` is already in the office's time zone."""

    office_name: str
    service_name: str
    service_name_en: str | None = None
    code: str
    priority_label: str | None = None
    appointment_label: str | None = None  # "Lịch hẹn 09:15": an appointment checked in at the kiosk
    waiting_ahead: int
    eta_text: str
    issued_at: datetime
    status_url: str
    note: str = "Phiếu chỉ có giá trị trong ngày"

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware (in the office's time zone)")
        if self.waiting_ahead < 0:
            raise ValueError("waiting_ahead cannot be negative")
        if not self.code.strip():
            raise ValueError("code is empty")


# FreeType layout of every measured string and drawn line would alone blow the 30 ms
# budget (docs/benchmarks.md). Labels, office and field names repeat on every
# ticket, so measurements and rendered line masks are cached (fonts are cached too,
# so their identity is a stable key).


@lru_cache(maxsize=4096)
def _length(fnt: ImageFont.FreeTypeFont, text: str) -> float:
    return fnt.getlength(text)


def _bbox(fnt: ImageFont.FreeTypeFont, text: str) -> tuple[int, int, int, int]:
    """Ink box relative to the baseline origin (whole dots with BASIC layout)."""
    left, top, right, bottom = fnt.getbbox(text, anchor="ls")
    return int(left), int(top), int(right), int(bottom)


@lru_cache(maxsize=512)
def _line_mask(fnt: ImageFont.FreeTypeFont, text: str) -> tuple[Image.Image, int, int]:
    """Rendered line as an "L" mask (255 = ink) plus its offset from the baseline origin."""
    left, top, right, bottom = _bbox(fnt, text)
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=fnt, fill=255, anchor="ls")
    return mask, left, top


@lru_cache(maxsize=256)
def _extent(fnt: ImageFont.FreeTypeFont) -> tuple[int, int]:
    """(above, below) the baseline that any Vietnamese line of this font may reach.

    getmetrics() is not enough: stacked marks on capitals (Ỗ, Ẫ) rise above the
    font's ascent and would touch the line above.
    """
    ascent, descent = fnt.getmetrics()
    tall = -_bbox(fnt, _TALL)[1]
    deep = _bbox(fnt, _DEEP)[3]
    return max(ascent, tall), max(descent, deep)


def wrap(text: str, fnt: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap by measured width; a word longer than a line is split.

    Explicit newlines are kept, so an office can decide where its long name breaks.
    """
    lines: list[str] = []
    for paragraph in nfc(text).split("\n"):
        if _length(fnt, paragraph) <= max_width:
            lines.append(paragraph)
            continue
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if _length(fnt, candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while len(word) > 1 and _length(fnt, word) > max_width:
                cut = len(word) - 1
                while cut > 1 and _length(fnt, word[:cut]) > max_width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


class _Sheet:
    """A growing greyscale canvas with a vertical cursor."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.margin = max(8, round(width * 0.028))
        self.inner = width - 2 * self.margin
        self.y = 0
        self.img = Image.new("L", (width, 1024), 255)
        self.draw = ImageDraw.Draw(self.img)

    def ensure(self, height: int) -> None:
        if self.y + height <= self.img.height:
            return
        grown = Image.new("L", (self.width, max(self.img.height * 2, self.y + height)), 255)
        grown.paste(self.img, (0, 0))
        self.img = grown
        self.draw = ImageDraw.Draw(self.img)

    def space(self, dots: int) -> None:
        self.ensure(dots)
        self.y += dots

    def line(self, text: str, fnt: ImageFont.FreeTypeFont, x: float, baseline: int, ink: int = 0) -> None:
        mask, left, top = _line_mask(fnt, text)
        self.img.paste(ink, (round(x) + left, baseline + top), mask)

    def lines(
        self,
        lines: list[str],
        fnt: ImageFont.FreeTypeFont,
        *,
        align: Align = "center",
        leading: float = 0.12,
        left: int | None = None,
        avail: int | None = None,
    ) -> None:
        """Draw already wrapped lines; ``left``/``avail`` restrict them to a column."""
        left = self.margin if left is None else left
        avail = self.inner if avail is None else avail
        above, below = _extent(fnt)
        step = above + below + round(fnt.size * leading)
        for line in lines:
            self.ensure(step)
            width = _length(fnt, line)
            x = left + {"left": 0, "center": (avail - width) / 2, "right": avail - width}[align]
            self.line(line, fnt, x, self.y + above)
            self.y += step

    def text(self, text: str, fnt: ImageFont.FreeTypeFont, *, leading: float = 0.12) -> None:
        """A centred paragraph over the full width."""
        self.lines(wrap(text, fnt, self.inner), fnt, leading=leading)

    def rule(self, thickness: int = 2, *, dashed: bool = False) -> None:
        self.ensure(thickness)
        y0, y1, right = self.y, self.y + thickness - 1, self.width - self.margin - 1
        if dashed:
            dash = max(6, thickness * 4)
            for x in range(self.margin, right, dash * 2):
                self.draw.rectangle((x, y0, min(x + dash - 1, right), y1), fill=0)
        else:
            self.draw.rectangle((self.margin, y0, right, y1), fill=0)
        self.y += thickness

    def badge(self, text: str, fnt: ImageFont.FreeTypeFont) -> None:
        """White text on a black rounded box, centred: priority must stand out."""
        above, below = _extent(fnt)
        pad_x, pad_y = round(fnt.size * 0.6), round(fnt.size * 0.2)
        lines = wrap(text, fnt, self.inner - 2 * pad_x)
        box_w = min(self.inner, int(max(_length(fnt, ln) for ln in lines)) + 2 * pad_x)
        box_h = (above + below) * len(lines) + 2 * pad_y
        self.ensure(box_h)
        x0 = (self.width - box_w) // 2
        self.draw.rounded_rectangle(
            (x0, self.y, x0 + box_w - 1, self.y + box_h - 1), radius=round(fnt.size * 0.35), fill=0
        )
        y = self.y + pad_y
        for ln in lines:
            self.line(ln, fnt, (self.width - _length(fnt, ln)) / 2, y + above, ink=255)
            y += above + below
        self.y += box_h

    def big(self, text: str, max_height: int, weight: int = 800) -> None:
        """One line as large as the width and ``max_height`` (of ink) allow."""
        left, top, right, bottom = _bbox(font(weight, 100), text)
        size = int(100 * min(self.inner / max(1, right - left), max_height / max(1, bottom - top)))
        while True:  # hinting is not linear in size: confirm, shrink if needed
            fnt = font(weight, max(size, 8))
            left, top, right, bottom = _bbox(fnt, text)
            if (right - left <= self.inner and bottom - top <= max_height) or size <= 8:
                break
            size -= 2
        self.ensure(bottom - top)
        self.draw.text(((self.width - (right - left)) / 2 - left, self.y - top), text, font=fnt, fill=0, anchor="ls")
        self.y += bottom - top

    def paste(self, img: Image.Image, x: int) -> None:
        self.ensure(img.height)
        self.img.paste(img, (x, self.y))
        self.y += img.height

    def finish(self, bottom_pad: int) -> Image.Image:
        """Crop to content and threshold to 1 bit (no dithering: text stays crisp)."""
        self.space(bottom_pad)
        cropped = self.img.crop((0, 0, self.width, self.y))
        return cropped.point(_BW_LUT, mode="1")


_BW_LUT = [255 if p > _THRESHOLD else 0 for p in range(256)]


def _sizes(width: int) -> dict[str, int]:
    """Font sizes in dots, designed at 576 and scaled, with floors for 58 mm paper."""
    scale = width / 576
    design = {"office": (26, 19), "service": (30, 21), "service_en": (20, 16), "label": (20, 16),
              "priority": (26, 19), "body": (23, 18), "caption": (19, 16), "note": (20, 16)}
    return {k: max(floor, round(v * scale)) for k, (v, floor) in design.items()}


def _qr_matrix(data: str) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, box_size=1)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def qr_module_size(modules: int, width_dots: int) -> int:
    """Dots per module: >= 4 (0.5 mm) so phone cameras read it at arm's length."""
    return max(4, min(16, round(width_dots * (0.24 if width_dots >= 500 else 0.36)) // modules))


def native_qr_module_size(data: str, width_dots: int) -> int:
    """Module size for a printer-drawn QR as large as ours (version only: no masking)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    return qr_module_size(17 + 4 * qr.best_fit(), width_dots)


def qr_image(data: str, width_dots: int) -> Image.Image:
    """QR code (error correction M, no quiet zone: the layout leaves white around it)."""
    matrix = _qr_matrix(data)
    n = len(matrix)
    module = qr_module_size(n, width_dots)
    raw = bytes(0 if cell else 255 for row in matrix for cell in row)
    return Image.frombytes("L", (n, n), raw).resize((n * module, n * module), Image.Resampling.NEAREST)


def check_width(width_dots: int) -> None:
    """GS v 0 sends whole bytes per row, so the width must be a multiple of 8."""
    if width_dots % 8 or not 256 <= width_dots <= 832:
        raise ValueError(f"width_dots must be a multiple of 8 in 256..832, got {width_dots}")


def _head(sheet: _Sheet, content: TicketContent, sz: dict[str, int]) -> None:
    s = sheet.width / 576
    sheet.space(round(8 * s))
    sheet.text(content.office_name, font(700, sz["office"]), leading=0.06)
    sheet.space(round(4 * s))
    sheet.rule(max(2, round(3 * s)))
    sheet.space(round(10 * s))
    sheet.text(content.service_name, font(700, sz["service"]), leading=0.04)
    if content.service_name_en:
        sheet.text(content.service_name_en, font(400, sz["service_en"], italic=True), leading=0.04)
    sheet.space(round(10 * s))
    sheet.text("SỐ THỨ TỰ", font(600, sz["label"]), leading=0)
    sheet.space(round(2 * s))
    sheet.big(nfc(content.code).replace("\n", " "), max_height=round(sheet.width * 0.24))
    sheet.space(round(16 * s))
    if content.priority_label:
        sheet.badge(nfc(content.priority_label), font(700, sz["priority"]))
        sheet.space(round(12 * s))
    if content.appointment_label:
        sheet.text(nfc(content.appointment_label), font(700, sz["priority"]), leading=0.04)
        sheet.space(round(12 * s))


def _facts(content: TicketContent) -> list[tuple[str, str]]:
    return [
        ("Số người đang chờ trước bạn:", str(content.waiting_ahead)),
        ("Thời gian chờ:", nfc(content.eta_text)),
        ("Lấy số lúc:", f"{content.issued_at:%d/%m/%Y %H:%M}"),
    ]


def _fact_lines(label: str, value: str, fnt: ImageFont.FreeTypeFont, avail: int) -> list[str]:
    """"label value" on one line when it fits; otherwise break after the label so the
    value ("Khoảng 10–15 phút") is never split from its own words needlessly."""
    whole = f"{label} {value}"
    if _length(fnt, whole) <= avail:
        return [whole]
    return wrap(label, fnt, avail) + wrap(value, fnt, avail)


def _fact_block(content: TicketContent, fnt: ImageFont.FreeTypeFont, avail: int) -> list[str]:
    return [line for label, value in _facts(content) for line in _fact_lines(label, value, fnt, avail)]


def _step(fnt: ImageFont.FreeTypeFont, leading: float) -> int:
    above, below = _extent(fnt)
    return above + below + round(fnt.size * leading)


def _facts_and_qr(sheet: _Sheet, content: TicketContent, sz: dict[str, int]) -> None:
    """On 80 mm paper the facts sit beside the QR (a third less paper, and the raster
    stays under 40 KB); on 58 mm they run full width above it."""
    body, caption = font(500, sz["body"]), font(400, sz["caption"], italic=True)
    qr = qr_image(content.status_url, sheet.width)
    col_left = sheet.margin + qr.width + round(sheet.width * 0.03)
    col_w = sheet.width - sheet.margin - col_left
    beside = sheet.width >= 500
    facts = _fact_block(content, body, col_w if beside else sheet.inner)
    if not beside:
        sheet.lines(facts, body, leading=0.14)
        sheet.space(round(sheet.width * 0.025))
        facts = []
    notes = wrap(QR_CAPTION, caption, col_w)
    gap = round(sheet.width * 0.012) if facts else 0
    column_h = len(facts) * _step(body, 0.14) + gap + len(notes) * _step(caption, 0.06)
    top = sheet.y
    sheet.paste(qr, sheet.margin)
    qr_bottom = sheet.y
    sheet.y = top + max(0, (qr.height - column_h) // 2)
    sheet.lines(facts, body, align="left", left=col_left, avail=col_w, leading=0.14)
    sheet.space(gap)
    sheet.lines(notes, caption, align="left", left=col_left, avail=col_w, leading=0.06)
    sheet.y = max(qr_bottom, sheet.y)


def _tail(sheet: _Sheet, content: TicketContent, sz: dict[str, int]) -> None:
    s = sheet.width / 576
    sheet.space(round(16 * s))
    sheet.rule(max(1, round(2 * s)), dashed=True)
    sheet.space(round(8 * s))
    sheet.text(content.note, font(400, sz["note"], italic=True), leading=0.04)


def render_ticket(content: TicketContent, width_dots: int = 576, *, include_qr: bool = True) -> Image.Image:
    """The whole ticket as a mode "1" image exactly ``width_dots`` wide."""
    check_width(width_dots)
    sheet, sz = _Sheet(width_dots), _sizes(width_dots)
    _head(sheet, content, sz)
    if include_qr:
        sheet.space(round(6 * width_dots / 576))  # with the gap above: a 4-module quiet zone
        _facts_and_qr(sheet, content, sz)
    else:
        body = font(500, sz["body"])
        sheet.lines(_fact_block(content, body, sheet.inner), body, leading=0.14)
    _tail(sheet, content, sz)
    return sheet.finish(bottom_pad=round(width_dots * 0.015))


def render_ticket_around_qr(content: TicketContent, width_dots: int = 576) -> tuple[Image.Image, Image.Image]:
    """(above, below) a QR code that the printer draws itself (native QR).

    Facts and caption go above the symbol, the note below; each part leaves a white
    band next to the symbol for its quiet zone.
    """
    check_width(width_dots)
    sz = _sizes(width_dots)
    top = _Sheet(width_dots)
    _head(top, content, sz)
    body = font(500, sz["body"])
    top.lines(_fact_block(content, body, top.inner), body, leading=0.14)
    top.space(round(width_dots * 0.015))
    top.text(QR_CAPTION, font(400, sz["caption"], italic=True), leading=0.06)
    above = top.finish(bottom_pad=round(width_dots * 0.03))
    bottom = _Sheet(width_dots)
    bottom.space(round(width_dots * 0.01))
    _tail(bottom, content, sz)
    return above, bottom.finish(bottom_pad=round(width_dots * 0.015))


_TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # ngang huyền hỏi ngã sắc nặng
_VOWELS = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y")


def vietnamese_letters() -> list[str]:
    """Every Vietnamese letter that is not plain ASCII (Đ, ơ, ư, all toned vowels), NFC."""
    letters = ["Đ", "đ"]
    for vowel in _VOWELS:
        for tone in _TONES:
            for base in (vowel.upper(), vowel):
                letters.append(unicodedata.normalize("NFC", base + tone))
    return [ch for ch in letters if not ch.isascii()]


def render_test_page(printer_name: str, width_dots: int, *, now: datetime | None = None) -> Image.Image:
    """A page to check a new printer: every Vietnamese letter, a dot ruler and the time."""
    check_width(width_dots)
    now = now or datetime.now().astimezone()
    sheet, sz = _Sheet(width_dots), _sizes(width_dots)
    sheet.space(10)
    sheet.text("TRANG IN THỬ", font(800, round(sz["service"] * 1.2)))
    sheet.text(printer_name, font(600, sz["body"]))
    sheet.text(f"Khổ in: {width_dots} điểm ({width_dots / 8:.0f} mm ở 203 dpi)", font(400, sz["caption"]))
    sheet.space(10)
    sheet.rule(2)
    sheet.space(10)
    body = font(500, sz["body"])
    sheet.text("Đ đ Ă ă Â â Ê ê Ô ô Ơ ơ Ư ư", font(700, sz["body"]))
    for vowel in _VOWELS:
        row = [unicodedata.normalize("NFC", b + t) for b in (vowel.upper(), vowel) for t in _TONES]
        sheet.text(" ".join(row), body, leading=0.1)
    sheet.space(8)
    sheet.text("Xin mời công dân có số thứ tự 1005 đến quầy số 3.", font(400, sz["caption"]))
    sheet.text("Quý khách vui lòng giữ phiếu và chờ đến lượt.", font(400, sz["caption"], italic=True))
    sheet.space(14)
    _ruler(sheet)
    sheet.space(12)
    sheet.text(f"In lúc {now:%d/%m/%Y %H:%M:%S}", font(600, sz["body"]))
    return sheet.finish(bottom_pad=16)


def _ruler(sheet: _Sheet) -> None:
    """Ticks every 8 dots (long every 64) from edge to edge, ignoring the margin: a
    missing end mark on paper means the configured width exceeds the printer's."""
    draw, w, label = sheet.draw, sheet.width, font(500, 16)
    sheet.ensure(44)
    y = sheet.y
    draw.rectangle((0, y + 40, w - 1, y + 41), fill=0)
    for x in range(0, w, 8):
        tick = 22 if x % 64 == 0 else 10
        draw.rectangle((x, y + 40 - tick, x, y + 39), fill=0)
        if x % 128 == 0 and 0 < x < w - 72:
            draw.text((x + 2, y + 2), str(x), font=label, fill=0)
    draw.rectangle((0, y + 10, 2, y + 39), fill=0)
    draw.rectangle((w - 3, y + 10, w - 1, y + 39), fill=0)
    draw.text((w - 5, y + 2), str(w), font=label, fill=0, anchor="ra")
    sheet.y += 44
