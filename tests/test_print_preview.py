"""Preview, file, lp and CUPS connections, and printer specs."""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image, ImageChops

from motcua.printer_targets import Allowlist, network_address, serial_port, usb_ids
from printers.connections import send
from printers.deadline import run_with_deadline
from printers.encode import ProfileError, encode_image, encode_ticket
from printers.layout import TicketContent, render_test_page, render_ticket
from printers.spec import PrintError, PrinterSpec, PrinterUnavailable, PrintTimeout
from printers.transports.files import escpos_cups
from printers.transports.preview import safe_name

URL = "https://motcua.example.gov.vn/t/5c1e"


def inside(folder: Path) -> Allowlist:
    """Files and previews allowed inside the test's own folder."""
    real = os.path.realpath(folder)
    return Allowlist(device_paths=(f"{glob.escape(real)}/*", f"{glob.escape(real)}/*/*/*"), preview_folder=Path(real))


def ticket(code: str = "B012") -> TicketContent:
    return TicketContent(
        office_name="Trung tâm Phục vụ hành chính công tỉnh Quảng Ngãi",
        service_name="Tư pháp – Chứng thực bản sao",
        service_name_en="Certification of copies",
        code=code,
        priority_label="Ưu tiên: Phụ nữ mang thai",
        waiting_ahead=0,
        eta_text="Khoảng 0–5 phút",
        issued_at=datetime(2026, 11, 23, 7, 31, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
        status_url=URL,
    )


def same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


@pytest.mark.parametrize("width", [576, 384])
def test_preview_writes_what_would_print(tmp_path: Path, width: int) -> None:
    folder = tmp_path / "preview"  # created on demand
    spec = PrinterSpec("Kiosk sảnh", "preview", str(folder), width_dots=width, allow=inside(tmp_path))
    path = send(spec, encode_ticket(ticket(), width_dots=width), name="B012")
    assert path == folder / "B012.png"
    with Image.open(path) as png:
        assert same(png, render_ticket(ticket(), width))
    assert sorted(p.name for p in folder.iterdir()) == ["B012.png"]  # no temp files left


def test_preview_of_native_qr_shows_a_readable_code(tmp_path: Path) -> None:
    spec = PrinterSpec("kiosk", "preview", str(tmp_path), native_qr=True, allow=inside(tmp_path))
    data = encode_ticket(ticket(), width_dots=576, native_qr=True)
    path = send(spec, data, name="native")
    assert path is not None
    with Image.open(path) as png:
        assert png.width == 576
        assert [r.text for r in zxingcpp.read_barcodes(png.convert("L"))] == [URL]


def test_preview_names(tmp_path: Path) -> None:
    spec = PrinterSpec("Quầy số 3", "preview", str(tmp_path), width_dots=384, allow=inside(tmp_path))
    page = encode_image(render_test_page("Quầy số 3", 384))
    named = send(spec, page, name="../Trang in thử: Đường/1")
    assert named is not None and named.parent == tmp_path
    assert named.name == "Trang_in_thu_Duong_1.png"
    unnamed = send(spec, page)
    assert unnamed is not None and unnamed.name.startswith("Quay_so_3-") and unnamed.suffix == ".png"
    assert send(spec, page, name="A001") == send(spec, page, name="A001")  # replaced, not duplicated
    assert safe_name("...") == "job"


def test_preview_of_nothing_printable_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PrintError, match="no raster"):
        send(PrinterSpec("p", "preview", str(tmp_path), allow=inside(tmp_path)), b"\x1b@Xin chao\n")


def test_file_connection_writes_the_bytes(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    data = encode_ticket(ticket(), width_dots=576)
    assert send(PrinterSpec("usb-lp", "file", str(out), allow=inside(tmp_path)), data) is None
    assert out.read_bytes() == data


def test_file_connection_to_a_missing_device(tmp_path: Path) -> None:
    with pytest.raises(PrinterUnavailable, match="usb-lp"):
        send(PrinterSpec("usb-lp", "file", str(tmp_path / "no" / "such" / "lp0"), allow=inside(tmp_path)), b"\x1b@")


def test_file_connection_that_blocks_times_out(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening a FIFO for writing blocks until a reader comes: a hung device
    with pytest.raises(PrintTimeout):
        send(PrinterSpec("stuck", "file", str(fifo), timeout=0.3, allow=inside(tmp_path)), b"\x1b@")
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # releases the stuck worker thread
    got, deadline = b"", time.monotonic() + 2
    while got != b"\x1b@" and time.monotonic() < deadline:
        with contextlib.suppress(BlockingIOError):
            got += os.read(reader, 16)
        time.sleep(0.01)
    os.close(reader)
    assert got == b"\x1b@"  # the late write still happens: why the spooler must stop sending


def test_run_with_deadline_passes_results_and_errors() -> None:
    assert run_with_deadline(lambda: 42, 1, "x") == 42
    with pytest.raises(ZeroDivisionError):
        run_with_deadline(lambda: 1 / 0, 1, "x")


def fake_lp(folder: Path, script: str) -> None:
    lp = folder / "lp"
    lp.write_text("#!/bin/sh\n" + script)
    lp.chmod(lp.stat().st_mode | stat.S_IXUSR)


def test_lp_connection_runs_lp_raw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_lp(tmp_path, f'echo "$@" > {tmp_path}/args\ncat > {tmp_path}/job\n')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    data = encode_ticket(ticket(), width_dots=576)
    send(PrinterSpec("lp", "lp", "kiosk_hall"), data, name="B012")
    assert (tmp_path / "job").read_bytes() == data
    assert (tmp_path / "args").read_text().split() == ["-d", "kiosk_hall", "-o", "raw", "-t", "B012"]


def test_lp_failure_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_lp(tmp_path, 'echo "lp: The printer or class does not exist." >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(PrinterUnavailable, match="does not exist"):
        send(PrinterSpec("lp", "lp", "nope"), b"\x1b@")


def test_lp_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrinterUnavailable, match="lp command"):
        send(PrinterSpec("lp", "lp", "kiosk"), b"\x1b@")


def test_cups_without_pycups_says_what_to_install() -> None:
    if escpos_cups.is_usable():
        pytest.skip("pycups is installed here")
    with pytest.raises(PrinterUnavailable, match="pycups") as err:
        send(PrinterSpec("cups", "cups", "kiosk"), b"\x1b@")
    assert "'lp' connection" in str(err.value)


def test_spec_validation() -> None:
    assert PrinterSpec("a", "network", "10.0.0.5").timeout == 4
    with pytest.raises(ValueError, match="connection"):
        PrinterSpec("a", "bluetooth", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="multiple of 8"):
        PrinterSpec("a", "network", "10.0.0.5", width_dots=580)
    with pytest.raises(ProfileError):
        PrinterSpec("a", "network", "10.0.0.5", profile="TM-T88V")  # 512 dots < 576
    with pytest.raises(ValueError, match="host"):
        PrinterSpec("a", "network", "10.0.0.5:notaport")
    with pytest.raises(ValueError, match="empty"):
        PrinterSpec("a", "file", " ")
    with pytest.raises(ValueError, match="timeout"):
        PrinterSpec("a", "file", "/dev/usb/lp0", timeout=0)
    assert network_address("[::1]:9101") == ("::1", 9101)
    assert network_address("printer.local") == ("printer.local", 9100)
    assert usb_ids("04b8:0e15") == (0x04B8, 0x0E15, None, None)
    assert usb_ids("0x0416:0x5011:81:03") == (0x0416, 0x5011, 0x81, 0x03)
    with pytest.raises(ValueError, match="hex"):
        usb_ids("EPSON:TM")
    assert serial_port("/dev/ttyUSB0@115200") == ("/dev/ttyUSB0", 115200)
    assert serial_port("COM3") == ("COM3", 9600)


def test_usb_printer_that_is_not_plugged_in() -> None:
    spec = PrinterSpec("usb", "usb", "dead:beef", timeout=0.5)
    with pytest.raises(PrinterUnavailable, match="usb"):
        send(spec, b"\x1b@")
