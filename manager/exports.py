"""CSV and XLSX files of the reports, with Vietnamese headers.

CSV is UTF-8 with a byte-order mark (so Excel detects UTF-8), comma-separated, CRLF lines,
dot as the decimal mark, dates and times in ISO 8601 with the office's UTC offset: a file for
tools and scripts. XLSX (XlsxWriter) is the file for people: real numbers, dates shown
dd/mm/yyyy, one sheet per table.

In both, durations of a summary are minutes (2 decimals), shares are percentages (2 decimals);
the per-ticket log gives each wait and service time in seconds (to the millisecond).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import IO, Any

import xlsxwriter

from manager import reports
from manager.reports import OUT_OF_ORDER_COLUMNS, PUNCTUALITY_COLUMNS, TICKET_COLUMNS, Summary
from motcua.engine import clock

BOM = "\ufeff"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
EXCEL_MAX_ROWS = 1_048_576

GROUP_HEADERS = {
    "counter": ("Số quầy", "Tên quầy"),
    "clerk": ("Tên đăng nhập", "Cán bộ"),
    "service": ("Mã lĩnh vực", "Lĩnh vực"),
    "hour": ("Giờ", "Khung giờ"),
    "weekday": ("Thứ (1 = Thứ Hai)", "Thứ"),
    "day": ("Ngày", "Ngày (dd/mm/yyyy)"),
    "source": ("Nguồn", "Nguồn lấy số"),
}
SHEET_NAMES = {
    "counter": "Theo quầy",
    "clerk": "Theo cán bộ",
    "service": "Theo lĩnh vực",
    "hour": "Theo giờ",
    "weekday": "Theo thứ",
    "day": "Theo ngày",
    "source": "Theo nguồn",
}

# (key, header, kind): kind "n" a count, "min" seconds shown as minutes, "pct" a share as %.
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("legs", "Lượt xếp hàng", "n"),
    ("issued", "Số phiếu cấp", "n"),
    ("transferred_in", "Chuyển đến", "n"),
    ("served", "Đã phục vụ", "n"),
    ("no_show", "Vắng mặt", "n"),
    ("cancelled", "Đã hủy", "n"),
    ("transferred", "Chuyển đi", "n"),
    ("unfinished", "Chưa kết thúc", "n"),
    ("priority", "Lượt ưu tiên", "n"),
    ("priority_share", "Tỷ lệ ưu tiên (%)", "pct"),
    ("called", "Lượt được gọi", "n"),
    ("wait_mean_s", "Chờ trung bình (phút)", "min"),
    ("wait_median_s", "Chờ trung vị (phút)", "min"),
    ("wait_p90_s", "Chờ P90 (phút)", "min"),
    ("wait_max_s", "Chờ lâu nhất (phút)", "min"),
    ("service_n", "Lượt có thời gian phục vụ", "n"),
    ("service_mean_s", "Phục vụ trung bình (phút)", "min"),
    ("service_median_s", "Phục vụ trung vị (phút)", "min"),
    ("service_p90_s", "Phục vụ P90 (phút)", "min"),
    ("recalls", "Số lần gọi lại", "n"),
    ("out_of_order", "Gọi không theo thứ tự", "n"),
    ("ratings", "Số đánh giá", "n"),
    ("satisfied", "Hài lòng", "n"),
    ("satisfaction_rate", "Tỷ lệ hài lòng (%)", "pct"),
)
ETA_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("eta_n", "Lượt có dự kiến", "n"),
    ("eta_within", "Chờ đúng dự kiến", "n"),
    ("eta_within_share", "Tỷ lệ đúng dự kiến (%)", "pct"),
    ("eta_mean_error_s", "Sai lệch dự kiến TB (phút)", "min"),
    ("eta_mean_abs_error_s", "Sai lệch tuyệt đối TB (phút)", "min"),
)


def summary_columns(summary: Summary) -> list[tuple[str, str, str]]:
    key_h, label_h = GROUP_HEADERS[summary.group_by]
    cols = [("key", key_h, "key"), ("label", label_h, "text")] + list(FIGURES)
    levels = max([len(summary.scale)] + [int(k.split("_")[1]) for k in summary.total if k.startswith("rating_")])
    for i in range(1, levels + 1):
        name = summary.scale[i - 1] if i <= len(summary.scale) else str(i)
        cols.append((f"rating_{i}", f"Đánh giá mức {i}: {name}", "n"))
    return cols + list(ETA_FIGURES)


def cell(value: Any, kind: str) -> Any:
    """The value a spreadsheet cell holds for a summary figure."""
    if value is None:
        return None
    if kind == "min":
        return round(value / 60, 2)
    if kind == "pct":
        return round(value * 100, 2)
    return value


def summary_table(summary: Summary) -> tuple[list[str], list[list[Any]]]:
    cols = summary_columns(summary)
    rows = [[cell(r.get(k), kind) for k, _, kind in cols] for r in summary.rows + [summary.total]]
    return [h for _, h, _ in cols], rows


# ---- CSV -----------------------------------------------------------------------------------


# A spreadsheet reads a cell that begins with one of these as a formula (or, after a tab or
# carriage return, may do so): citizens' reasons and staff names must stay text (OWASP "CSV
# injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text that a spreadsheet will show as typed and never evaluate: a leading apostrophe
    before a formula-like start, as OWASP recommends. Numbers never come here, so a negative
    number stays a number."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_text(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Có" if value else ""
    return "" if value is None else value


def csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """The file as text chunks, BOM first (stream them: a year's log is large). Every CSV of
    the room is written here, so every cell passes through `_csv_text`."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    w.writerow([_csv_text(h) for h in header])
    for row in rows:
        w.writerow([_csv_text(v) for v in row])
        if buf.tell() > 64 * 1024:  # send in chunks, not a syscall per row
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def summary_csv(summary: Summary) -> str:
    header, rows = summary_table(summary)
    return "".join(csv_lines(header, rows))


def ticket_rows(log: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    keys = [k for k, _ in TICKET_COLUMNS]
    for row in log:
        yield [row[k] for k in keys]


def tickets_csv(log: Iterable[dict[str, Any]]) -> Iterator[str]:
    return csv_lines([h for _, h in TICKET_COLUMNS], ticket_rows(log))


# ---- XLSX ----------------------------------------------------------------------------------


class Book:
    """An XlsxWriter workbook in a temporary file (constant memory: a year's log fits)."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()
        self.wb = xlsxwriter.Workbook(self.file, {
            "constant_memory": True, "remove_timezone": True, "strings_to_urls": False,
            # Text is written with write_string anyway; this keeps any write() of text a string too.
            "strings_to_formulas": False,
        })
        wb = self.wb
        self.f_head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#EEF1F4", "border": 1})
        self.f_total = wb.add_format({"bold": True, "top": 1})
        self.f_day = wb.add_format({"num_format": "dd/mm/yyyy"})
        self.f_time = wb.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
        self.f_dec = wb.add_format({"num_format": "0.00"})
        self.f_dec_total = wb.add_format({"num_format": "0.00", "bold": True, "top": 1})
        self.f_title = wb.add_format({"bold": True, "font_size": 14})
        self.f_wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    def sheet(self, name: str, header: list[str], widths: list[int] | None = None):
        ws = self.wb.add_worksheet(name[:31])
        ws.set_row(0, 48)
        for i, h in enumerate(header):
            ws.write_string(0, i, h, self.f_head)
            ws.set_column(i, i, (widths[i] if widths else max(10, min(28, len(h) + 2))))
        ws.freeze_panes(1, 0)
        return ws

    def write(self, ws, r: int, c: int, value: Any, kind: str = "", total: bool = False) -> None:
        if value is None:
            if total:
                ws.write_blank(r, c, None, self.f_total)
            return
        if isinstance(value, datetime):
            ws.write_datetime(r, c, value.replace(tzinfo=None), self.f_time)
        elif isinstance(value, date):
            ws.write_datetime(r, c, datetime.combine(value, datetime.min.time()), self.f_day)
        elif isinstance(value, bool):
            if value:
                ws.write_string(r, c, "Có", self.f_total if total else None)
        elif isinstance(value, (int, float)):
            fmt = (self.f_dec_total if total else self.f_dec) if kind in ("min", "pct", "dec") else (self.f_total if total else None)
            ws.write_number(r, c, value, fmt)
        else:
            ws.write_string(r, c, str(value), self.f_total if total else None)

    def close(self) -> IO[bytes]:
        self.wb.close()
        self.file.seek(0)
        return self.file


def add_summary_sheet(book: Book, summary: Summary) -> None:
    cols = summary_columns(summary)
    ws = book.sheet(SHEET_NAMES[summary.group_by], [h for _, h, _ in cols], [12, 30] + [14] * (len(cols) - 2))
    rows = summary.rows + [summary.total]
    for i, row in enumerate(rows, start=1):
        total = i == len(rows)
        for j, (k, _, kind) in enumerate(cols):
            value = row.get(k)
            if k == "key" and summary.group_by == "day" and value:
                value = date.fromisoformat(value)
            book.write(ws, i, j, cell(value, kind), kind, total)


def add_info_sheet(book: Book, office_name: str, start: date, end: date, tz: str, extra: list[tuple[str, str]] = ()) -> None:
    """`tz` is the office's time zone: "Lập lúc" is read in the office, whatever the server's zone."""
    ws = book.wb.add_worksheet("Thông tin")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 90)
    ws.write_string(0, 0, "Báo cáo thời gian chờ và phục vụ", book.f_title)
    info = [
        ("Đơn vị", office_name),
        ("Từ ngày", start.strftime("%d/%m/%Y")),
        ("Đến ngày", end.strftime("%d/%m/%Y")),
        ("Lập lúc", clock.local(clock.now(), tz).strftime("%d/%m/%Y %H:%M")),
        *extra,
        ("Đơn vị tính", "Lượt = một lần xếp hàng vào một lĩnh vực (phiếu chuyển lĩnh vực có nhiều lượt)."),
        ("Thời gian chờ", "Gọi lúc − vào hàng đợi lúc, của các lượt đã được gọi."),
        ("Thời gian phục vụ", "Kết thúc − bắt đầu, của các lượt đã bắt đầu phục vụ."),
        ("Trung vị", "Giá trị ở giữa (số lượt chẵn: trung bình hai giá trị giữa)."),
        ("P90", "Thứ hạng gần nhất: giá trị thứ ⌈0,9 × n⌉ khi xếp tăng dần; 90% lượt chờ không quá giá trị này."),
        ("Tỷ lệ hài lòng", "Phần đánh giá thuộc nửa tốt của thang (1 = tốt nhất)."),
        ("Sai lệch dự kiến", "Khoảng cách từ thời gian chờ thật tới khoảng dự kiến đã in trên phiếu (0 nếu nằm trong khoảng; dương = chờ lâu hơn dự kiến)."),
    ]
    for i, (k, v) in enumerate(info, start=2):
        ws.write_string(i, 0, k, book.f_total)
        ws.write_string(i, 1, v, book.f_wrap)


def summary_xlsx(summaries: list[Summary], *, histogram: list[dict] | None = None, heatmap: list[list[int]] | None = None,
                 out_of_order: list[dict] | None = None, punctuality: list[dict] | None = None,
                 deliveries: list[dict] | None = None) -> IO[bytes]:
    """One sheet per table: information, each summary, and the chart tables when given."""
    book = Book()
    first = summaries[0]
    add_info_sheet(book, first.office.name, first.start, first.end, first.office.timezone)
    for s in summaries:
        add_summary_sheet(book, s)
    if histogram is not None:
        ws = book.sheet("Phân bố thời gian chờ", ["Từ (phút)", "Đến (phút)", "Số lượt"], [12, 12, 12])
        for i, b in enumerate(histogram, start=1):
            book.write(ws, i, 0, b["from_min"])
            book.write(ws, i, 1, b["to_min"])
            book.write(ws, i, 2, b["count"])
    if heatmap is not None:
        ws = book.sheet("Lượt lấy số theo giờ", ["Thứ"] + [f"{h:02d}h" for h in range(24)], [12] + [6] * 24)
        for i, row in enumerate(heatmap, start=1):
            book.write(ws, i, 0, reports.WEEKDAYS_VI[i - 1])
            for h, n in enumerate(row):
                book.write(ws, i, h + 1, n)
    if out_of_order is not None:
        add_out_of_order_sheet(book, out_of_order)
    if punctuality:
        ws = book.sheet("Lịch hẹn đúng giờ", [h + (" (%)" if k == "in_window_share" else "") for k, h in PUNCTUALITY_COLUMNS],
                        [10, 24, 10, 12, 10, 10, 10, 14])
        for i, row in enumerate(punctuality, start=1):
            for j, (k, _) in enumerate(PUNCTUALITY_COLUMNS):
                kind = "pct" if k == "in_window_share" else ""
                book.write(ws, i, j, cell(row[k], kind), kind, total=row["service"] is None)
    if deliveries is not None:
        add_deliveries_sheet(book, deliveries)
    return book.close()


def add_deliveries_sheet(book: Book, rows: list[dict]) -> None:
    """Messages to citizens by event and channel (manager.notification_reports)."""
    from manager.notification_reports import EVENTS_VI, SUMMARY_COLUMNS

    ws = book.sheet("Tin nhắn gửi công dân", [h for _, h in SUMMARY_COLUMNS], [18, 14, 10, 14, 10, 14, 12])
    for i, row in enumerate(rows, start=1):
        for j, (k, _) in enumerate(SUMMARY_COLUMNS):
            book.write(ws, i, j, EVENTS_VI.get(row[k], row[k]) if k == "event" else row[k])


def add_out_of_order_sheet(book: Book, calls: list[dict]) -> None:
    ws = book.sheet("Gọi không theo thứ tự", [h for _, h in OUT_OF_ORDER_COLUMNS], [20, 12, 10, 10, 24, 8, 22, 40, 12, 14])
    for i, row in enumerate(calls, start=1):
        for j, (k, _) in enumerate(OUT_OF_ORDER_COLUMNS):
            book.write(ws, i, j, row[k], "dec" if k == "wait_s" else "")


def tickets_xlsx(log: Iterable[dict[str, Any]], office_name: str, start: date, end: date, tz: str) -> IO[bytes]:
    """The per-leg log; a log longer than Excel's row limit continues on further sheets."""
    book = Book()
    add_info_sheet(book, office_name, start, end, tz, [("Nội dung", "Nhật ký từng lượt xếp hàng (mỗi dòng một lượt).")])
    header = [h for _, h in TICKET_COLUMNS]
    widths = [12, 10, 9, 6, 10, 26, 22] + [19] * 5 + [7, 22, 12, 16, 9, 10, 30, 12, 12, 10, 10, 10, 16, 30, 30]
    keys = [k for k, _ in TICKET_COLUMNS]
    kinds = ["dec" if k in ("wait_s", "service_s") else "" for k in keys]
    part, r, ws = 1, 0, None
    for row in log:
        if ws is None or r >= EXCEL_MAX_ROWS - 1:
            ws = book.sheet("Nhật ký" if part == 1 else f"Nhật ký ({part})", header, widths)
            part, r = part + 1, 0
        r += 1
        for j, k in enumerate(keys):
            book.write(ws, r, j, row[k], kinds[j])
    if ws is None:
        book.sheet("Nhật ký", header, widths)
    return book.close()


def filename(kind: str, office_code: str, start: date, end: date, ext: str) -> str:
    return f"motcua-{kind}-{office_code}-{start.isoformat()}_{end.isoformat()}.{ext}"

