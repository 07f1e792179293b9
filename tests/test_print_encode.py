"""ESC/POS encoding, raster decoding and keeping python-escpos quiet."""

from __future__ import annotations

import glob
import logging
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image, ImageChops

from printers import raster
from printers.encode import ProfileError, encode_image, encode_ticket, profile_for
from printers.layout import TicketContent, render_test_page, render_ticket
from printers.quiet import quiet

GOLDEN = Path(__file__).parent / "golden" / "ticket_576.png"
URL = "https://motcua.example.gov.vn/t/3f9c2a7b1e4d"
ESC_INIT = b"\x1b@"
FULL_CUT = b"\x1dV\x00"


def ticket() -> TicketContent:
    """Fixed content for the golden image: change it and the golden must be redone."""
    return TicketContent(
        office_name="Trung tâm Phục vụ hành chính công phường Bến Thành",
        service_name="Đất đai – Đăng ký biến động quyền sử dụng đất",
        service_name_en="Land registration",
        code="A001",
        priority_label="Ưu tiên: Người cao tuổi",
        waiting_ahead=12,
        eta_text="Khoảng 10–15 phút",
        issued_at=datetime(2026, 11, 23, 9, 15, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
        status_url=URL,
    )


def qr_texts(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img.convert("L"))]


def differing(a: Image.Image, b: Image.Image) -> int:
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    return sum(diff.histogram()[1:])


@pytest.mark.parametrize("width", [576, 384])
def test_raster_decodes_back_to_the_rendered_ticket(width: int) -> None:
    data = encode_ticket(ticket(), width_dots=width)
    assert data.startswith(ESC_INIT)
    assert data.endswith(b"\x1bd\x06" + FULL_CUT)  # feed 6 lines, full cut
    assert b"\x1d(k" not in data
    decoded = raster.decode(data)
    assert decoded.size == (width, render_ticket(ticket(), width).height)
    assert differing(decoded, render_ticket(ticket(), width)) == 0
    assert qr_texts(decoded) == [URL]


def test_ticket_matches_golden_image() -> None:
    decoded = raster.decode(encode_ticket(ticket(), width_dots=576))
    if os.environ.get("MOTCUA_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        decoded.save(GOLDEN, optimize=True)
    golden = Image.open(GOLDEN)
    assert golden.width == decoded.width
    assert abs(golden.height - decoded.height) <= 4
    height = min(golden.height, decoded.height)
    top = (0, 0, golden.width, height)
    # FreeType versions may move a few anti-aliasing edge pixels, nothing more.
    assert differing(golden.crop(top), decoded.crop(top)) <= 0.01 * golden.width * height


def test_image_qr_ticket_is_under_40_kb() -> None:
    data = encode_ticket(ticket(), width_dots=576)
    img = render_ticket(ticket(), 576)
    assert len(data) < 40_000
    # blank runs are sent as narrow blocks, so far less than the plain raster
    assert len(data) < img.height * 576 // 8 * 0.85


@pytest.mark.parametrize("width", [576, 384])
def test_native_qr_uses_gs_k_and_fewer_bytes(width: int) -> None:
    image_qr = encode_ticket(ticket(), width_dots=width)
    native = encode_ticket(ticket(), width_dots=width, native_qr=True)
    assert len(native) < len(image_qr)
    store = b"\x1d(k" + (len(URL) + 3).to_bytes(2, "little") + b"1P0" + URL.encode()
    assert store in native
    assert b"\x1d(k\x03\x001Q0" in native  # print the stored symbol
    assert b"\x1d(k\x03\x001E1" in native  # error correction M
    qr_at = native.index(store)
    assert native.rindex(b"\x1ba\x01", 0, qr_at) > native.rindex(b"\x1dv0", 0, qr_at)  # centred
    assert b"\x1ba\x00" in native[qr_at:]  # back to left for the raster below
    decoded = raster.decode(native)
    assert decoded.width == width
    assert qr_texts(decoded) == [URL]


def test_native_qr_falls_back_to_image_when_the_profile_lacks_it() -> None:
    data = encode_ticket(ticket(), width_dots=576, native_qr=True, profile="TH230")  # qrCode: false
    assert b"\x1d(k" not in data
    assert qr_texts(raster.decode(data)) == [URL]


def test_profiles_are_checked() -> None:
    with pytest.raises(ProfileError, match="at most 512"):
        encode_ticket(ticket(), width_dots=576, profile="TM-T88V")
    with pytest.raises(ProfileError, match="unknown"):
        profile_for("no-such-printer", 576)
    with pytest.raises(ProfileError, match="raster"):
        profile_for("TM-U220", 384)
    assert encode_ticket(ticket(), width_dots=512, profile="TM-T88V")
    # escpos' cut() emits nothing at all for profiles without a cutter
    no_cutter = encode_ticket(ticket(), width_dots=384, profile="NT-5890K")
    assert b"\x1dV" not in no_cutter and no_cutter.endswith(b"\x1bd\x06")
    assert not encode_ticket(ticket(), width_dots=576, cut=False).endswith(FULL_CUT)


def test_default_profile_copy_keeps_escpos_features() -> None:
    profile = profile_for("default", 576)
    assert profile.profile_data["media"]["width"]["pixels"] == 576
    assert profile.supports("paperFullCut") and profile.supports("qrCode")
    from escpos.capabilities import get_profile_class

    assert get_profile_class("default").profile_data["media"]["width"]["pixels"] == "Unknown"


def test_encode_image_round_trip_for_test_page() -> None:
    page = render_test_page("Máy in thử", 384, now=datetime(2026, 1, 2, 3, 4, 5))
    data = encode_image(page)
    assert data.startswith(ESC_INIT) and data.endswith(FULL_CUT)
    assert differing(raster.decode(data), page) == 0
    grey = page.convert("L")  # grey input is thresholded, not dithered
    assert differing(raster.decode(encode_image(grey)), page) == 0


def test_tall_images_are_split_and_stacked() -> None:
    tall = Image.new("1", (384, 2500), 0)  # all black: no blank runs
    data = encode_image(tall, cut=False)
    blocks = list(raster.iter_raster_blocks(data))
    assert [b.height for b in blocks] == [960, 960, 580]  # python-escpos fragments at 960
    assert differing(raster.decode(data), tall) == 0


def test_truncated_stream() -> None:
    data = encode_ticket(ticket(), width_dots=576)
    cut_short = data[: len(data) // 2]
    with pytest.raises(ValueError, match="GS v 0"):
        raster.decode(cut_short)
    partial = raster.decode(cut_short, strict=False)
    assert partial.width == 576 and 0 < partial.height < render_ticket(ticket(), 576).height
    with pytest.raises(ValueError, match="no raster"):
        raster.decode(b"\x1b@hello\n")


def test_raster_modes_and_alignment() -> None:
    block = b"\x1dv0\x03\x01\x00\x02\x00" + b"\x80\x01"  # double width+height, 8x2 dots
    img = raster.decode(b"\x1ba\x02" + block, width=32)
    assert img.size == (32, 4)
    assert img.getpixel((16, 0)) == 0 and img.getpixel((31, 2)) == 0 and img.getpixel((20, 0)) == 255


def test_quiet_silences_escpos_prints_only_inside(capfd: pytest.CaptureFixture[str]) -> None:
    from escpos.printer import Dummy

    img = Image.new("1", (64, 8), 1)
    Dummy(profile="default").image(img)  # escpos.py:218 prints on every image()
    assert "media.width.pixel" in capfd.readouterr().out
    with quiet():
        Dummy(profile="default").image(img)
        print("still mine")  # only escpos is meant, but this thread is silenced too
    assert capfd.readouterr().out == ""
    encode_ticket(ticket(), width_dots=576)
    print("after")
    assert capfd.readouterr().out == "after\n"


def test_quiet_does_not_silence_other_threads(capfd: pytest.CaptureFixture[str]) -> None:
    import threading

    inside, done = threading.Event(), threading.Event()

    def other() -> None:
        inside.wait(5)
        print("other thread", flush=True)
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with quiet():
        inside.set()
        assert done.wait(5)
        print("silenced")
    thread.join()
    assert capfd.readouterr().out == "other thread\n"


def test_escpos_import_leaves_root_logging_alone() -> None:
    code = (
        "import logging, printers.connections, printers.status\n"
        "from motcua.printer_targets import Allowlist\n"
        "from printers.connections import send\n"
        "from printers.spec import PrinterSpec\n"
        "import tempfile, os\n"
        "d = os.path.realpath(tempfile.mkdtemp())\n"
        "send(PrinterSpec('f', 'file', os.path.join(d, 'out.bin'), allow=Allowlist(device_paths=(d + '/*',))), b'\\x1b@')\n"
        "print(len(logging.getLogger().handlers))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parent.parent)
    # Plain `import escpos` would leave a stderr handler on the root logger and the
    # File driver would log "File printer enabled" on it.
    assert done.stdout.strip() == "0"
    assert done.stderr == ""


def test_driver_logs_go_to_printers_escpos_at_debug(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from motcua.printer_targets import Allowlist
    from printers.connections import send
    from printers.spec import PrinterSpec

    caplog.set_level(logging.DEBUG)
    folder = os.path.realpath(tmp_path)
    send(PrinterSpec("f", "file", f"{folder}/out.bin", allow=Allowlist(device_paths=(f"{glob.escape(folder)}/*",))), b"\x1b@")
    escpos_records = [r for r in caplog.records if "File" in r.getMessage()]
    assert escpos_records, "the File driver logs on open and close"
    assert {(r.name, r.levelno) for r in escpos_records} == {("printers.escpos", logging.DEBUG)}


def test_raster_never_carries_a_status_query() -> None:
    # Dots spelling 10 04 01 in a row: 0x10 = dot 3, 0x04 = dot 13, 0x01 = dot 23.
    img = Image.new("1", (384, 16), 1)
    for x in (3, 13, 23, 99):
        img.putpixel((x, 5), 0)
    from escpos.printer import Dummy

    plain = Dummy(profile=profile_for("default", 384))
    plain.image(img)
    assert b"\x10\x04\x01" in plain.output  # what python-escpos alone would send
    data = encode_image(img)
    assert b"\x10\x04\x01" not in data
    assert differing(raster.decode(data), img) == 1  # one dot gave way
