"""Network printing and status against a real TCP ESC/POS printer on 127.0.0.1,
plus status byte parsing and a serial printer on a pseudo-terminal."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import zxingcpp

from motcua.printer_targets import Allowlist
from printers import raster
from printers.connections import open_connection, query_status, send
from printers.encode import encode_ticket
from printers.layout import TicketContent, render_ticket
from printers.spec import (
    JobInterrupted,
    PrinterOffline,
    PrinterSpec,
    PrinterUnavailable,
    PrintTimeout,
)
from printers.status import (
    PrinterStatus,
    parse_error_cause,
    parse_offline_cause,
    parse_paper_status,
    parse_printer_status,
)

if TYPE_CHECKING:
    from tests.support.escpos_sink import EscposSink

pytest_plugins = ["tests.support.escpos_sink"]  # the escpos_sink fixture (also listed by conftest later)

URL = "https://motcua.example.gov.vn/t/77"
TIMEOUT = 0.6
SLACK = 0.5  # scheduling slack on a busy CI machine
# The sink listens on an ephemeral loopback port; the serial printer is a pseudo-terminal.
LOOPBACK = Allowlist(ports=((1024, 65535),), device_paths=("/dev/pts/*",))


def ticket() -> TicketContent:
    return TicketContent(
        office_name="UBND xã Tân Phú",
        service_name="Hộ tịch – Đăng ký khai sinh",
        code="1005",
        waiting_ahead=3,
        eta_text="Không xác định",
        issued_at=datetime(2026, 11, 23, 14, 2, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
        status_url=URL,
    )


def spec_for(sink: EscposSink, **kw: object) -> PrinterSpec:
    args: dict[str, object] = {"name": "quầy 1", "connection": "network", "target": sink.target,
                               "timeout": TIMEOUT, "allow": LOOPBACK}
    args.update(kw)
    return PrinterSpec(**args)  # type: ignore[arg-type]


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    try:
        result = fn()
    except Exception as exc:
        return exc, time.monotonic() - start
    return result, time.monotonic() - start


# -- printing -----------------------------------------------------------------


@pytest.mark.parametrize("native_qr", [False, True])
def test_ticket_reaches_the_printer_intact(escpos_sink: EscposSink, native_qr: bool) -> None:
    spec = spec_for(escpos_sink, native_qr=native_qr)
    data = encode_ticket(ticket(), width_dots=spec.width_dots, native_qr=spec.native_qr)
    assert send(spec, data) is None
    job = escpos_sink.wait_job()
    assert job.payload == data
    assert job.data.endswith(b"\x10\x04\x01")  # the post-job status check
    assert job.answered >= 1
    printed = raster.decode(job.payload)
    assert [r.text for r in zxingcpp.read_barcodes(printed.convert("L"))] == [URL]
    if not native_qr:
        assert printed.tobytes() == render_ticket(ticket(), 576).tobytes()


def test_several_jobs_arrive_in_order(escpos_sink: EscposSink) -> None:
    spec = spec_for(escpos_sink)
    for i in range(3):
        send(spec, b"\x1b@job %d\n" % i)
    assert [escpos_sink.wait_job().payload for _ in range(3)] == [b"\x1b@job %d\n" % i for i in range(3)]


def test_send_without_confirm_does_not_ask(escpos_sink: EscposSink) -> None:
    send(spec_for(escpos_sink, confirm=False), b"\x1b@plain\n")
    job = escpos_sink.wait_job()
    assert bytes(job.data) == b"\x1b@plain\n"


def test_refused_connection_means_nothing_was_sent(escpos_sink: EscposSink) -> None:
    escpos_sink.mode = "refuse"
    outcome, took = timed(lambda: send(spec_for(escpos_sink), b"\x1b@x"))
    assert isinstance(outcome, PrinterUnavailable)
    assert "quầy 1" in str(outcome)
    assert took < TIMEOUT + SLACK
    escpos_sink.mode = "ok"  # the printer comes back on the same port
    send(spec_for(escpos_sink), b"\x1b@back\n")
    assert escpos_sink.wait_job().payload == b"\x1b@back\n"


def test_hung_printer_times_out_within_the_timeout(escpos_sink: EscposSink) -> None:
    escpos_sink.mode = "hang"
    data = encode_ticket(ticket(), width_dots=576)
    outcome, took = timed(lambda: send(spec_for(escpos_sink), data))
    assert isinstance(outcome, PrintTimeout)
    assert isinstance(outcome, TimeoutError)
    assert took < TIMEOUT + SLACK


def test_connection_dropped_mid_job_raises(escpos_sink: EscposSink) -> None:
    escpos_sink.set_mode("drop", drop_after=2000)
    data = encode_ticket(ticket(), width_dots=576)
    outcome, took = timed(lambda: send(spec_for(escpos_sink), data))
    assert isinstance(outcome, JobInterrupted), outcome
    assert took < TIMEOUT + SLACK
    job = escpos_sink.wait_job()
    assert job.dropped and len(job.data) == 2000 and data.startswith(bytes(job.data))


def test_short_job_dropped_before_the_check_raises(escpos_sink: EscposSink) -> None:
    # The whole job fits in socket buffers, so only the post-job check can notice.
    escpos_sink.set_mode("drop", drop_after=5)
    outcome, _ = timed(lambda: send(spec_for(escpos_sink), b"\x1b@0123456789"))
    assert isinstance(outcome, JobInterrupted), outcome


def test_job_to_a_printer_out_of_paper_is_delivered_but_reported(escpos_sink: EscposSink) -> None:
    escpos_sink.mode = "paper_out"
    data = encode_ticket(ticket(), width_dots=576)
    with pytest.raises(PrinterOffline, match="offline"):
        send(spec_for(escpos_sink), data)
    assert escpos_sink.wait_job().payload == data  # it sits in the printer's buffer
    escpos_sink.mode = "paper_near_end"
    send(spec_for(escpos_sink), data)  # near end still prints


def test_network_timeout_is_not_escpos_default(escpos_sink: EscposSink) -> None:
    printer = open_connection(spec_for(escpos_sink))
    try:
        assert printer.device.gettimeout() == TIMEOUT  # escpos would wait 60 s
    finally:
        printer.close()


# -- status ------------------------------------------------------------------------


def test_status_ok(escpos_sink: EscposSink) -> None:
    status = query_status(spec_for(escpos_sink))
    assert status == PrinterStatus(online=True, paper="ok", error=None)
    assert status.ready is True
    job = escpos_sink.wait_job(include_status=True)
    assert job.status_only and bytes(job.data) == b"\x10\x04\x01\x10\x04\x04"


def test_status_paper_near_end(escpos_sink: EscposSink) -> None:
    escpos_sink.mode = "paper_near_end"
    status = query_status(spec_for(escpos_sink))
    assert (status.online, status.paper, status.ready) == (True, "near_end", True)


def test_status_paper_out(escpos_sink: EscposSink) -> None:
    escpos_sink.mode = "paper_out"
    status = query_status(spec_for(escpos_sink))
    assert (status.online, status.paper, status.ready) == (False, "out", False)
    assert status.reasons == ("paper_end",)
    assert status.error == "paper end"


def test_status_of_a_hung_printer_is_offline_within_the_timeout(escpos_sink: EscposSink) -> None:
    escpos_sink.mode = "hang"
    status, took = timed(lambda: query_status(spec_for(escpos_sink)))
    assert isinstance(status, PrinterStatus)
    assert status.online is False and status.paper is None
    assert "no status reply" in (status.error or "")
    assert TIMEOUT * 0.8 < took < TIMEOUT + SLACK


def test_status_of_a_refusing_printer_is_offline(escpos_sink: EscposSink) -> None:
    escpos_sink.mode = "refuse"
    status, took = timed(lambda: query_status(spec_for(escpos_sink)))
    assert isinstance(status, PrinterStatus)
    assert status.online is False and "refused" in (status.error or "")
    assert took < SLACK


def test_status_uses_its_own_timeout(escpos_sink: EscposSink) -> None:
    escpos_sink.mode = "hang"
    _, took = timed(lambda: query_status(spec_for(escpos_sink, timeout=5), timeout=0.3))
    assert took < 0.3 + SLACK


def test_status_is_unknown_where_it_cannot_be_asked(tmp_path: object) -> None:
    for connection, target in (("file", "/dev/null"), ("lp", "kiosk"), ("cups", "kiosk"), ("preview", "/tmp")):
        spec = PrinterSpec("x", connection, target)  # type: ignore[arg-type]
        status = query_status(spec)
        assert (status.online, status.paper, status.error, status.ready) == (None, None, None, None)


@pytest.mark.parametrize(
    ("byte", "online"), [(0x12, True), (0x16, True), (0x1A, False), (0x1E, False), (0x52, True)]
)
def test_parse_printer_status(byte: int, online: bool) -> None:
    assert parse_printer_status(byte) is online


@pytest.mark.parametrize(
    ("byte", "paper"), [(0x12, "ok"), (0x1E, "near_end"), (0x16, "near_end"), (0x72, "out"), (0x7E, "out")]
)
def test_parse_paper_status(byte: int, paper: str) -> None:
    assert parse_paper_status(byte) == paper


def test_parse_causes_and_reject_garbage() -> None:
    assert parse_offline_cause(0x12 | 0x04 | 0x20) == ("cover_open", "paper_end")
    assert parse_error_cause(0x12 | 0x08) == ("cutter_error",)
    for garbage in (0x00, 0xFF, 0x13, 0x92):
        with pytest.raises(ValueError):
            parse_printer_status(garbage)


# -- serial over a pseudo-terminal ---------------------------------------------------


class PtyPrinter:
    """The far end of a pty behaving as a serial ESC/POS printer."""

    def __init__(self, reply: dict[int, int]) -> None:
        self.master, slave = os.openpty()
        self.device = os.ttyname(slave)
        self._slave = slave
        self.reply = reply
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            self.received += chunk
            for n, value in self.reply.items():
                if chunk.endswith(b"\x10\x04" + bytes((n,))):
                    os.write(self.master, bytes((value,)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self._slave)


def test_serial_printer_on_a_pty() -> None:
    pytest.importorskip("serial")
    printer = PtyPrinter({1: 0x12, 4: 0x1E})
    try:
        spec = PrinterSpec("serial", "serial", f"{printer.device}@115200", timeout=1, allow=LOOPBACK)
        status = query_status(spec)
        assert (status.online, status.paper) == (True, "near_end")
        send(spec, b"\x1b@serial job\n")
        deadline = time.monotonic() + 2
        while b"serial job" not in printer.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert b"\x1b@serial job\n\x10\x04\x01" in bytes(printer.received)
    finally:
        printer.close()


def test_silent_serial_printer() -> None:
    pytest.importorskip("serial")
    printer = PtyPrinter({})
    try:
        spec = PrinterSpec("serial", "serial", f"{printer.device}@115200", timeout=0.3, allow=LOOPBACK)
        status, took = timed(lambda: query_status(spec))
        assert isinstance(status, PrinterStatus) and status.online is False
        assert took < 0.3 + SLACK
        outcome, _ = timed(lambda: send(spec, b"\x1b@nobody listens\n"))
        assert isinstance(outcome, JobInterrupted)
    finally:
        printer.close()
