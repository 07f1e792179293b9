"""The simulator's figures as a short table for a terminal."""

from __future__ import annotations

from typing import Any


def _min(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f} %"


def render(out: dict[str, Any]) -> str:
    head = (f"{out['office']} {out['from']}…{out['to']} ({out['days']} ngày / days, seed {out['seed']}): "
            f"{out['tickets']} phiếu / tickets, {out['turned_away']} ngoài giờ lấy số / turned away")
    lines = [head, "", f"{'':8}{'phiếu':>7}{'xong':>7}{'vắng':>6}{'chờ TB':>8}{'chờ p90':>9}{'trong DK':>10}{'rộng DK':>9}{'có DK':>8}",
             f"{'':8}{'tickets':>7}{'served':>7}{'absent':>6}{'mean':>8}{'p90 min':>9}{'in range':>10}{'width':>9}{'known':>8}"]
    rows = [*out["by_service"].items(), ("Tổng/all", out)]
    for code, r in rows:
        eta = r["eta"]
        width = "—" if eta["median_width_min"] is None else f"{eta['median_width_min']:.1f}"
        lines.append(f"{code:8}{r['tickets']:>7}{r['served']:>7}{r['no_show']:>6}{_min(r['wait_s']['mean']):>8}"
                     f"{_min(r['wait_s']['p90']):>9}{_pct(eta['within_share']):>10}{width:>9}{_pct(eta['known_share']):>8}")
    return "\n".join(lines)
