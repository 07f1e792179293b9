"""Staffing advice as a terminal table: per weekday, a row per field, a column per hour, each cell
"recommended/really open" in counter-equivalents (a "!" marks an hour the target was not met
even with the most counters tried)."""

from __future__ import annotations

from typing import Any

WEEKDAYS = {1: "Thứ Hai / Mon", 2: "Thứ Ba / Tue", 3: "Thứ Tư / Wed", 4: "Thứ Năm / Thu", 5: "Thứ Sáu / Fri",
            6: "Thứ Bảy / Sat", 7: "Chủ nhật / Sun"}


def render(out: dict[str, Any]) -> str:
    lines = [f"{out['office']} {out['from']}…{out['to']} ({out['weeks']} tuần / weeks): số quầy đề xuất/thực tế mỗi giờ để chờ p90 ≤ "
             f"{out['target_p90_min']:g} phút / counters recommended/really open per hour for p90 wait ≤ {out['target_p90_min']:g} min",
             "(quầy quy đổi: quầy dùng chung tính theo tỷ lệ lượt gọi / counter-equivalents: a shared counter counts by its share of calls)"]
    if not out["rows"]:
        lines.append("Chưa có lượt nào trong khoảng này / no arrivals in the period")
        return "\n".join(lines)
    by_day: dict[int, list[dict]] = {}
    for r in out["rows"]:
        by_day.setdefault(r["weekday"], []).append(r)
    for wd, rows in sorted(by_day.items()):
        hours = sorted({r["hour"] for r in rows})
        lines += ["", f"{WEEKDAYS[wd]} ({out['days'].get(str(wd), 0)} ngày / days)",
                  f"{'':8}" + "".join(f"{h:>9}h" for h in hours)]
        cells: dict[str, dict[int, str]] = {}
        for r in rows:
            mark = "" if r["met"] else "!"
            cells.setdefault(r["service"], {})[r["hour"]] = f"{r['recommended']}/{r['real']:.1f}{mark}"
        for code, row in cells.items():
            lines.append(f"{code:8}" + "".join(f"{row.get(h, '—'):>10}" for h in hours))
        total_rec = {h: sum(r["recommended"] for r in rows if r["hour"] == h) for h in hours}
        total_real = {h: sum(r["real"] for r in rows if r["hour"] == h) for h in hours}
        lines.append(f"{'Tổng/all':8}" + "".join(f"{f'{total_rec[h]}/{total_real[h]:.1f}':>10}" for h in hours))
    return "\n".join(lines)
