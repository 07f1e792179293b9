"""Ticket printing: render + ESC/POS encode time and bytes, and loopback send time.

Run: ``python -m bench.print`` (or ``python bench/print.py``). Prints the figures and
writes them to docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section
from printers.encode import encode_ticket
from printers.layout import TicketContent, render_ticket

TITLE = "Ticket printing"
N = 200
OFFICES = ("Trung tâm Phục vụ hành chính công phường Bến Thành", "UBND xã Tân Phú")
FIELDS = (
    ("Đất đai – Đăng ký biến động quyền sử dụng đất", "Land registration"),
    ("Hộ tịch – Đăng ký khai sinh", None),
    ("Tư pháp – Chứng thực bản sao", "Certification of copies"),
    ("Kinh doanh – Đăng ký hộ kinh doanh", None),
)
ETAS = ("Khoảng 0–5 phút", "Khoảng 10–15 phút", "Khoảng 30–45 phút", "Không xác định")


def tickets(n: int = N) -> list[TicketContent]:
    """Varied, realistic tickets: every code, count and minute differs."""
    start = datetime(2026, 11, 23, 7, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    out = []
    for i in range(n):
        field, field_en = FIELDS[i % len(FIELDS)]
        out.append(TicketContent(
            office_name=OFFICES[i % 2],
            service_name=field,
            service_name_en=field_en,
            code=f"{'ABCD'[i % 4]}{i + 1:03d}" if i % 3 else str(1001 + i),
            priority_label="Ưu tiên: Người cao tuổi" if i % 5 == 0 else None,
            waiting_ahead=(i * 7) % 60,
            eta_text=ETAS[i % len(ETAS)],
            issued_at=start + timedelta(minutes=i),
            status_url=f"https://motcua.example.gov.vn/t/{i:04d}{(i * 2654435761) % 16**8:08x}",
        ))
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(width: int, native_qr: bool, batch: list[TicketContent]) -> dict[str, float]:
    cold_start = time.perf_counter()
    encode_ticket(batch[0], width_dots=width, native_qr=native_qr)
    cold = (time.perf_counter() - cold_start) * 1000
    times, sizes, renders = [], [], []
    for content in batch:
        t0 = time.perf_counter()
        data = encode_ticket(content, width_dots=width, native_qr=native_qr)
        times.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(data))
        if not native_qr:
            t0 = time.perf_counter()
            render_ticket(content, width)
            renders.append((time.perf_counter() - t0) * 1000)
    return {
        "cold": cold, "p50": pct(times, 0.5), "p99": pct(times, 0.99), "max": max(times),
        "render_p50": pct(renders, 0.5) if renders else float("nan"),
        "bytes_mean": statistics.fmean(sizes), "bytes_max": max(sizes),
    }


def loopback_send(batch: list[TicketContent]) -> tuple[float, float] | None:
    """p50/p99 ms to send a 576-dot ticket to the test printer on 127.0.0.1 (with the
    post-job status check), or None when tests/ is not importable."""
    try:
        from tests.support.escpos_sink import EscposSink
    except ImportError:
        return None
    from motcua.printer_targets import Allowlist
    from printers.connections import send
    from printers.spec import PrinterSpec

    sink = EscposSink().start()
    try:
        spec = PrinterSpec("bench", "network", sink.target, allow=Allowlist(ports=((sink.port, sink.port),)))
        jobs = [encode_ticket(c, width_dots=576) for c in batch[:50]]
        times = []
        for data in jobs:
            t0 = time.perf_counter()
            send(spec, data)
            times.append((time.perf_counter() - t0) * 1000)
            sink.wait_job()
        return pct(times, 0.5), pct(times, 0.99)
    finally:
        sink.stop()


def main() -> None:
    batch = tickets()
    rows = []
    for width in (576, 384):
        for native_qr in (False, True):
            m = measure(width, native_qr, batch)
            rows.append(
                f"| {width} | {'native (GS ( k)' if native_qr else 'image'} | {m['p50']:.1f} | {m['p99']:.1f} "
                f"| {m['max']:.1f} | {m['cold']:.0f} | "
                + ("–" if native_qr else f"{m['render_p50']:.1f}")
                + f" | {m['bytes_mean'] / 1000:.1f} | {m['bytes_max'] / 1000:.1f} |"
            )
    table = "\n".join([
        f"Render (Pillow, Be Vietnam Pro) + encode (python-escpos Dummy, GS v 0) of {N} different "
        "tickets, one thread. \"cold\" is the first ticket of a fresh run (fonts loading); "
        "later tickets reuse cached fonts and text lines. KB = 1000 bytes.",
        "",
        "| width (dots) | QR | p50 ms | p99 ms | max ms | cold ms | render-only p50 ms | mean KB | max KB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ])
    sent = loopback_send(batch)
    if sent:
        table += (f"\n\nSend to the loopback ESC/POS printer (tests/support/escpos_sink.py), 50 tickets of 576 "
                  f"dots, connect + data + DLE EOT 1 check + close: p50 {sent[0]:.1f} ms, p99 {sent[1]:.1f} ms.")
    print(table)
    path = write_section(TITLE, table)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
