"""Ticket and test-page rendering (printers.layout, printers.fonts)."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageChops

from printers import fonts, layout
from printers.layout import TicketContent, render_test_page, render_ticket

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def ticket(**changes: Any) -> TicketContent:
    base = TicketContent(
        office_name="Trung tâm Phục vụ hành chính công phường Bến Thành",
        service_name="Đất đai – Đăng ký biến động quyền sử dụng đất",
        service_name_en="Land registration",
        code="A001",
        priority_label="Ưu tiên: Người cao tuổi",
        waiting_ahead=12,
        eta_text="Khoảng 10–15 phút",
        issued_at=datetime(2026, 11, 23, 9, 15, tzinfo=HCM),
        status_url="https://motcua.example.gov.vn/t/3f9c2a7b1e4d",
    )
    return dataclasses.replace(base, **changes)


def same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def test_fonts_come_from_the_pip_package() -> None:
    path = fonts.font_path(700)
    assert path.name == "BeVietnamPro-Bold.ttf" and path.is_file()
    assert fonts.font_path("black").name == "BeVietnamPro-Black.ttf"
    assert fonts.font_path(650).name in {"BeVietnamPro-SemiBold.ttf", "BeVietnamPro-Bold.ttf"}
    assert fonts.font_path(400, italic=True).name == "BeVietnamPro-Italic.ttf"
    assert fonts.font(700, 30) is fonts.font(700, 30)  # cached
    with pytest.raises(ValueError):
        fonts.font("heavyish", 20)


def test_font_has_a_real_glyph_for_every_vietnamese_letter() -> None:
    letters = layout.vietnamese_letters()
    assert len(letters) == 134 and {"Đ", "đ", "Ỹ", "ỹ", "Ặ", "ự"} <= set(letters)
    fnt = fonts.font(500, 32)
    missing = bytes(fnt.getmask("\ue000"))  # private use area: the .notdef box
    for ch in letters:
        mask = fnt.getmask(ch)
        assert mask.getbbox() is not None, ch
        assert bytes(mask) != missing, f"{ch!r} renders as .notdef"


@pytest.mark.parametrize("width", [576, 384])
def test_ticket_is_a_1bit_image_of_the_printer_width(width: int) -> None:
    img = render_ticket(ticket(), width)
    assert img.mode == "1" and img.width == width
    assert 0.8 * width < img.height < 2.0 * width  # a ticket, not a scroll
    assert img.convert("L").getextrema() == (0, 255)
    # nothing in the outer 4 dots: printers clip there
    for x in (*range(4), *range(width - 4, width)):
        assert img.crop((x, 0, x + 1, img.height)).convert("L").getextrema() == (255, 255)


@pytest.mark.parametrize("width", [576, 384])
def test_decomposed_input_renders_like_composed(width: int) -> None:
    composed = ticket()
    texts = {f.name: getattr(composed, f.name) for f in dataclasses.fields(TicketContent)}
    nfd: dict[str, Any] = {k: unicodedata.normalize("NFD", v) for k, v in texts.items() if isinstance(v, str)}
    decomposed = dataclasses.replace(composed, **nfd)
    assert decomposed.office_name != composed.office_name  # really decomposed
    assert same(render_ticket(decomposed, width), render_ticket(composed, width))


@pytest.mark.parametrize("width", [576, 384])
def test_number_fills_the_width(width: int) -> None:
    # Tickets that differ only in their code differ only where the code is drawn.
    a, b = render_ticket(ticket(code="A001"), width), render_ticket(ticket(code="B482"), width)
    box = ImageChops.difference(a.convert("L"), b.convert("L")).getbbox()
    assert box is not None
    left, top, right, bottom = box
    assert right - left >= 0.75 * width
    assert bottom - top >= 0.18 * width


def test_long_field_names_wrap_inside_the_margins() -> None:
    short = render_ticket(ticket(service_name="Hộ tịch"))
    long_name = ("Đăng ký biến động quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền "
                 "với đất do chuyển nhượng, tặng cho, thừa kế")
    long_img = render_ticket(ticket(service_name=long_name))
    assert long_img.height >= short.height + 3 * 30  # at least three more lines
    no_spaces = render_ticket(ticket(service_name="Đăngkýbiếnđộng" * 6))  # one huge "word"
    for img in (long_img, no_spaces):
        for x in (0, 1, 2, 3, 572, 573, 574, 575):
            assert img.crop((x, 0, x + 1, img.height)).convert("L").getextrema() == (255, 255)


def test_wrap_keeps_every_word_and_respects_the_width() -> None:
    fnt = fonts.font(700, 30)
    text = "Đất đai – Đăng ký biến động quyền sử dụng đất, tài sản gắn liền với đất"
    lines = layout.wrap(text, fnt, 300)
    assert len(lines) > 1
    assert " ".join(lines) == text
    assert all(fnt.getlength(line) <= 300 for line in lines)
    assert layout.wrap("Dòng một\nDòng hai", fnt, 500) == ["Dòng một", "Dòng hai"]


def test_optional_parts_change_the_ticket() -> None:
    full = render_ticket(ticket())
    plain = render_ticket(ticket(priority_label=None, service_name_en=None))
    assert plain.height < full.height
    assert render_ticket(ticket(), include_qr=False).height < full.height
    assert not same(render_ticket(ticket(waiting_ahead=3)), render_ticket(ticket(waiting_ahead=4)))
    later = ticket(issued_at=datetime(2026, 11, 23, 9, 16, tzinfo=HCM))
    assert not same(render_ticket(later), full)


def test_an_appointment_ticket_prints_its_booked_time() -> None:
    walk_in = render_ticket(ticket())
    booked = render_ticket(ticket(appointment_label="Lịch hẹn 09:15"))
    assert booked.height > walk_in.height and booked.width == walk_in.width
    assert not same(booked, render_ticket(ticket(appointment_label="Lịch hẹn 09:30")))
    # The line sits inside the paper's margins, like every other line.
    ink = ImageChops.invert(booked.convert("L")).getbbox()
    assert ink is not None and ink[0] >= 8 and ink[2] <= booked.width - 8


def test_content_is_validated() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ticket(issued_at=datetime(2026, 11, 23, 9, 15))
    with pytest.raises(ValueError):
        ticket(waiting_ahead=-1)
    with pytest.raises(ValueError):
        ticket(code="  ")
    with pytest.raises(ValueError, match="multiple of 8"):
        render_ticket(ticket(), 580)


@pytest.mark.parametrize("width", [576, 384])
def test_test_page_has_ruler_to_both_edges(width: int) -> None:
    now = datetime(2026, 11, 23, 9, 15, 30, tzinfo=HCM)
    page = render_test_page("Quầy lễ tân – Xprinter XP-80", width, now=now)
    assert page.mode == "1" and page.width == width and page.height > 500
    grey = page.convert("L")
    # the ruler's end marks touch the first and the last dot column
    assert grey.crop((0, 0, 1, page.height)).getextrema()[0] == 0
    assert grey.crop((width - 1, 0, width, page.height)).getextrema()[0] == 0
    other_time = render_test_page("Quầy lễ tân – Xprinter XP-80", width, now=now.replace(second=31))
    assert not same(page, other_time)
    nfd = render_test_page(unicodedata.normalize("NFD", "Quầy lễ tân – Xprinter XP-80"), width, now=now)
    assert same(page, nfd)
