"""The summary: figures per group of queue legs over a range of business days, and the waiting
times alone per group (the per-counter chart).

Grouping (group_by):
- counter, clerk: the counter and clerk that called the leg (a leg never called has none and
  falls in a "not called" row);
- service: the leg's field;
- hour: the local hour the leg joined the queue (the ticket was issued or transferred in);
- weekday (ISO, Monday = 1), day: the business day;
- source: where the ticket came from (kiosk, remote); these rows add no_show_share = no_show /
  issued (for "remote", the remote no-show share; remote numbers that expired unchecked are
  among the cancelled).

Figures per group:
- legs: legs that joined a queue; issued: first legs (tickets issued); transferred_in: later legs;
- served / no_show / cancelled / transferred: how the leg ended; unfinished: still open;
- priority: legs of priority tickets, priority_share = priority / legs;
- waiting time = called_at − queued_at over legs that were called (served, no-show, transferred
  or cancelled after the call); service time = finished_at − started_at over legs that were
  started and ended. Mean, median and p90 are defined in motcua.stats; durations are whole
  milliseconds (motcua.sqltime), reported in seconds (JSON) or minutes (spreadsheets);
- recalls, out_of_order: calls repeated, and calls out of turn (their reasons are listed by
  `out_of_order_calls`);
- ratings: count, distribution by score (1 = best, the office's `rating_scale` order) and
  satisfaction_rate = share of ratings in the better half of their scale
  (score ≤ floor(scale / 2): "Rất hài lòng" and "Hài lòng" on the 4- and 5-level scales);
- estimates: eta_within_share, eta_mean_error_s, eta_mean_abs_error_s, eta_median_width_min and
  eta_known_share, as motcua.accuracy defines them (the simulator uses the same code).
"""


from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from manager.reports.base import (
    NOT_CALLED_VI,
    SOURCES_VI,
    WEEKDAYS_VI,
    L,
    Names,
    R,
    T,
    check_range,
    dialect_of,
    in_range,
    normalise_group,
    plain_rows,
    rating_scale,
    satisfied,
    service_ms,
    wait_ms,
)
from motcua import accuracy, stats
from motcua.models import Office
from motcua.sqltime import iso_weekday, local_hour

# From this many days a summary's four reads run in parallel (a month of a busy centre and up).
PARALLEL_FROM_DAYS = 7


@dataclass
class _Acc:
    counts: dict[str, int] = field(default_factory=dict)
    waits: list[int] = field(default_factory=list)
    services: list[int] = field(default_factory=list)
    ratings: dict[int, int] = field(default_factory=dict)
    satisfied: int = 0
    widths: dict[int, int] = field(default_factory=dict)  # printed estimate ranges by width (minutes)

    def add_counts(self, other: dict[str, int]) -> None:
        for k, v in other.items():
            self.counts[k] = self.counts.get(k, 0) + v


COUNT_KEYS = (
    "legs", "issued", "served", "no_show", "cancelled", "transferred", "unfinished", "priority",
    "recalls", "out_of_order", *accuracy.COUNT_KEYS,
)


@dataclass
class Summary:
    office: Office
    start: date
    end: date
    group_by: str
    scale: list[str]
    rows: list[dict[str, Any]]
    total: dict[str, Any]
    waits_ms: list[int]  # every wait of the range, sorted (histograms)

    def as_json(self) -> dict[str, Any]:
        return {
            "office": {"code": self.office.code, "name": self.office.name, "timezone": self.office.timezone},
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "group_by": self.group_by,
            "rating_scale": self.scale,
            "rows": self.rows,
            "total": self.total,
        }


def _key_expr(group_by: str, office: Office, start: date, end: date, dialect: str):
    if group_by == "counter":
        return L.c.counter_id
    if group_by == "clerk":
        return L.c.clerk_id
    if group_by == "service":
        return L.c.service_id
    if group_by == "hour":
        return local_hour(L.c.queued_at, office.timezone, start, end, dialect)
    if group_by == "weekday":
        return iso_weekday(L.c.business_day, dialect)
    if group_by == "source":  # the leg's ticket's source, without joining tickets into every read
        src = T.alias("source_ticket")  # its own alias: some reads join tickets already
        return select(src.c.source).where(src.c.id == L.c.ticket_id).correlate_except(src).scalar_subquery()
    return cast(L.c.business_day, String)  # text: the same key from every query and driver


def _run(session: Session, jobs: list[Callable[[Session], Any]], parallel: bool) -> list[Any]:
    """Run read-only jobs; in parallel, each but the first on its own session (the databases
    work on two cores while Python sorts). Each job sees committed data as of its own start,
    which for a report over past days is the same data."""
    bind = session.get_bind()
    if not parallel or not isinstance(bind, Engine):
        return [job(session) for job in jobs]

    def alone(job: Callable[[Session], Any]) -> Any:
        with Session(bind) as s:
            try:
                return job(s)
            finally:
                s.rollback()

    with ThreadPoolExecutor(max_workers=len(jobs) - 1, thread_name_prefix="report") as pool:
        futures = [pool.submit(alone, job) for job in jobs[1:]]
        first = jobs[0](session)
        return [first] + [f.result() for f in futures]


def _flag(cond) -> Any:
    return func.sum(case((cond, 1), else_=0))


def _durations(s: Session, key: Any, where: Any, dialect: str) -> tuple[dict[Any, list[int]], dict[Any, list[int]]]:
    """Every wait and service time by group, sorted, for exact medians and p90: a year is about
    a million rows, fetched in one go and sorted in Python (faster than window functions on both
    databases)."""
    waits: defaultdict[Any, list[int]] = defaultdict(list)
    services: defaultdict[Any, list[int]] = defaultdict(list)
    q = select(key, wait_ms(dialect), service_ms(dialect)).select_from(L).where(where, or_(L.c.called_at.is_not(None), L.c.started_at.is_not(None)))
    for k, w, sv in plain_rows(s, q):
        if w is not None:
            waits[k].append(w)
        if sv is not None:
            services[k].append(sv)
    for values in (*waits.values(), *services.values()):
        values.sort()
    return waits, services


def wait_stats(session: Session, office: Office, start: date, end: date, group_by: str = "counter") -> list[dict[str, Any]]:
    """Only the waiting times per group (mean, median, p90, in seconds): the per-counter chart
    beside a report grouped otherwise, cheaper than a whole summary (docs/benchmarks.md)."""
    group_by = normalise_group(group_by)
    check_range(start, end)
    dialect = dialect_of(session)
    key = _key_expr(group_by, office, start, end, dialect).label("k")
    waits, _ = _durations(session, key, in_range(office, start, end), dialect)
    names = Names.load(session, office)
    rows = []
    for k, ws in waits.items():
        rows.append({
            **_group_fields(group_by, k, names), "called": len(ws),
            "wait_mean_s": stats.ms_to_s(stats.mean(sum(ws), len(ws))), "wait_median_s": stats.ms_to_s(stats.median(ws)),
            "wait_p90_s": stats.ms_to_s(stats.p90(ws)),
        })
    rows.sort(key=lambda r: _sort_key(group_by, r, names))
    return rows


def summary(session: Session, office: Office, start: date, end: date, group_by: str = "service") -> Summary:
    group_by = normalise_group(group_by)
    check_range(start, end)
    dialect = dialect_of(session)
    key = _key_expr(group_by, office, start, end, dialect).label("k")
    where = in_range(office, start, end)
    accs: dict[Any, _Acc] = {}

    def acc(k: Any) -> _Acc:
        a = accs.get(k)
        if a is None:
            a = accs[k] = _Acc()
        return a

    # Four independent reads; over long ranges they run at once on their own connections.
    def counts(s: Session) -> list[tuple]:
        """Outcomes and flags, grouped in the database."""
        q = (
            select(
                key, func.count(), _flag(L.c.seq == 1), _flag(L.c.outcome == "served"), _flag(L.c.outcome == "no_show"),
                _flag(L.c.outcome == "cancelled"), _flag(L.c.outcome == "transferred"), _flag(L.c.outcome.is_(None)), _flag(L.c.priority),
                func.sum(L.c.recalls), _flag(L.c.out_of_order),
            )
            .where(where)
            .group_by(key)
        )
        return s.execute(q).all()

    def estimates(s: Session) -> tuple[dict[Any, dict[str, int]], dict[Any, dict[int, int]]]:
        return accuracy.eta_counts(s, key, where)

    def durations(s: Session) -> tuple[dict[Any, list[int]], dict[Any, list[int]]]:
        return _durations(s, key, where, dialect)

    def rated(s: Session) -> list[tuple]:
        """Ratings, by the leg they rate."""
        q = select(key, R.c.score, R.c.scale, func.count()).select_from(L.join(R, R.c.leg_id == L.c.id)).where(where)
        return s.execute(q.group_by(key, R.c.score, R.c.scale)).all()

    parallel = (end - start).days >= PARALLEL_FROM_DAYS
    (waits, services), count_rows, (eta_counts, eta_widths), rating_rows = _run(session, [durations, counts, estimates, rated], parallel)
    for row in count_rows:
        acc(row[0]).add_counts({k: int(v or 0) for k, v in zip(COUNT_KEYS, row[1:], strict=False)})
    for k, c in eta_counts.items():
        acc(k).add_counts(c)
    for k, w in eta_widths.items():
        acc(k).widths = w
    for k, ws in waits.items():
        acc(k).waits = ws
    for k, ss in services.items():
        acc(k).services = ss
    for k, score, scale_n, n in rating_rows:
        a = acc(k)
        a.ratings[score] = a.ratings.get(score, 0) + n
        if satisfied(score, scale_n):
            a.satisfied += n

    scale = rating_scale(office)
    levels = max([len(scale)] + [s for a in accs.values() for s in a.ratings])
    names = Names.load(session, office)
    rows = []
    for k, a in accs.items():
        row = {**_group_fields(group_by, k, names), **_figures(a, levels)}
        if group_by == "source":
            row["no_show_share"] = stats.share(row["no_show"], row["issued"])
        rows.append(row)
    rows.sort(key=lambda r: _sort_key(group_by, r, names))

    total = _Acc()
    for a in accs.values():
        total.add_counts(a.counts)
        total.waits.extend(a.waits)
        total.services.extend(a.services)
        for s, n in a.ratings.items():
            total.ratings[s] = total.ratings.get(s, 0) + n
        total.satisfied += a.satisfied
        accuracy.add({}, {}, a.widths, total.widths)
    total.waits.sort()
    total.services.sort()
    total_row = {"key": None, "label": "Tổng cộng", **_figures(total, levels)}
    return Summary(office, start, end, group_by, scale, rows, total_row, total.waits)


def _group_fields(group_by: str, k: Any, names: Names) -> dict[str, Any]:
    if k is None:
        return {"key": None, "label": NOT_CALLED_VI}
    if group_by == "counter":
        c = names.counters.get(k)
        return {"key": c.number if c else k, "label": c.label if c else str(k)}
    if group_by == "clerk":
        u = names.users.get(k)
        return {"key": u.username if u else str(k), "label": names.user_name(k) or str(k)}
    if group_by == "service":
        s = names.services.get(k)
        return {"key": s.code if s else str(k), "label": s.name if s else str(k)}
    if group_by == "hour":
        k = int(k)
        return {"key": k, "label": f"{k:02d}:00–{(k + 1) % 24:02d}:00"}
    if group_by == "weekday":
        k = int(k)
        return {"key": k, "label": WEEKDAYS_VI[k - 1]}
    if group_by == "source":
        return {"key": k, "label": SOURCES_VI.get(k, k)}
    d = k if isinstance(k, date) else date.fromisoformat(str(k))
    return {"key": d.isoformat(), "label": d.strftime("%d/%m/%Y")}


def _sort_key(group_by: str, row: dict, names: Names) -> tuple:
    if row["key"] is None:
        return (1, 0, "")
    if group_by == "service":
        order = {s.code: (s.sort_order, s.id) for s in names.services.values()}
        return (0, order.get(row["key"], (0, 0)), "")
    if group_by == "clerk":
        return (0, 0, row["label"].casefold())
    if group_by == "source":
        return (0, list(SOURCES_VI).index(row["key"]) if row["key"] in SOURCES_VI else len(SOURCES_VI), row["key"])
    return (0, row["key"], "")


def _figures(a: _Acc, levels: int) -> dict[str, Any]:
    c = {k: a.counts.get(k, 0) for k in COUNT_KEYS}
    legs = c["legs"]
    n_ratings = sum(a.ratings.values())
    out: dict[str, Any] = {
        "legs": legs,
        "issued": c["issued"],
        "transferred_in": legs - c["issued"],
        "served": c["served"],
        "no_show": c["no_show"],
        "cancelled": c["cancelled"],
        "transferred": c["transferred"],
        "unfinished": c["unfinished"],
        "priority": c["priority"],
        "priority_share": stats.share(c["priority"], legs),
        "called": len(a.waits),
        "wait_mean_s": stats.ms_to_s(stats.mean(sum(a.waits), len(a.waits))),
        "wait_median_s": stats.ms_to_s(stats.median(a.waits)),
        "wait_p90_s": stats.ms_to_s(stats.p90(a.waits)),
        "wait_max_s": stats.ms_to_s(float(a.waits[-1]) if a.waits else None),
        "service_n": len(a.services),
        "service_mean_s": stats.ms_to_s(stats.mean(sum(a.services), len(a.services))),
        "service_median_s": stats.ms_to_s(stats.median(a.services)),
        "service_p90_s": stats.ms_to_s(stats.p90(a.services)),
        "recalls": c["recalls"],
        "out_of_order": c["out_of_order"],
        "ratings": n_ratings,
        "satisfied": a.satisfied,
        "satisfaction_rate": stats.share(a.satisfied, n_ratings),
    }
    for s in range(1, levels + 1):
        out[f"rating_{s}"] = a.ratings.get(s, 0)
    out.update(accuracy.figures(c, a.widths))
    return out
