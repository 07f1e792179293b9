"""Waiting-time, service and satisfaction reports: plain functions over a session, no Flask.

The unit is the queue leg (`ticket_legs`): a ticket has one leg per field queue it joined, so a
transferred ticket counts once in each field, and its waits are measured per leg. A report
covers the business days [start, end] (the office's local dates) of one office.

Grouping (group_by):
- counter, clerk: the counter and clerk that called the leg (a leg never called has none and
  falls in a "not called" row);
- service: the leg's field;
- hour: the local hour the leg joined the queue (the ticket was issued or transferred in);
- weekday (ISO, Monday = 1), day: the business day.

Figures per group:
- legs: legs that joined a queue; issued: first legs (tickets issued); transferred_in: later legs;
- served / no_show / cancelled / transferred: how the leg ended; unfinished: still open;
- priority: legs of priority tickets, priority_share = priority / legs;
- waiting time = called_at − queued_at over legs that were called (served, no-show, transferred
  or cancelled after the call); service time = finished_at − started_at over legs that were
  started and ended. Mean, median and p90 are defined in manager.stats; durations are whole
  milliseconds (manager.sqltime), reported in seconds (JSON) or minutes (spreadsheets);
- recalls, out_of_order: calls repeated, and calls out of turn (their reasons are listed by
  `out_of_order_calls`);
- ratings: count, distribution by score (1 = best, the office's `rating_scale` order) and
  satisfaction_rate = share of ratings in the better half of their scale
  (score ≤ floor(scale / 2): "Rất hài lòng" and "Hài lòng" on the 4- and 5-level scales);
- estimates: for first legs that were called and had an estimate, eta_within_share = share
  whose real wait fell inside [eta_low, eta_high] minutes; eta_mean_error_s = mean signed
  distance from the range (0 inside; positive when people waited longer than told);
  eta_mean_abs_error_s = the same without the sign.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from manager import stats
from manager.sqltime import iso_weekday, local_hour, ms_between
from motcua.engine import clock
from motcua.engine.errors import QueueError
from motcua.models import Counter, Office, PriorityGroup, Rating, Service, Ticket, TicketEvent, TicketLeg, User

GROUPS = ("counter", "clerk", "service", "hour", "weekday", "day")
ALIASES = {"field": "service", "linh_vuc": "service"}
MAX_DAYS = 3 * 366
# From this many days a summary's four reads run in parallel (a month of a busy centre and up).
PARALLEL_FROM_DAYS = 7
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
OUTCOMES_VI = {"served": "Đã phục vụ", "no_show": "Vắng mặt", "transferred": "Chuyển lĩnh vực", "cancelled": "Đã hủy", None: "Chưa kết thúc"}
NOT_CALLED_VI = "(chưa gọi)"
# Waiting-time histogram: 5-minute bins up to an hour, then one open bin.
HISTOGRAM_STEP_MIN = 5
HISTOGRAM_LAST_MIN = 60

L = TicketLeg.__table__
T = Ticket.__table__
R = Rating.__table__
E = TicketEvent.__table__


# ---- periods ---------------------------------------------------------------------------


def check_range(start: date, end: date) -> None:
    if end < start:
        raise QueueError("bad_range", "Ngày kết thúc phải sau ngày bắt đầu.", "The end date must not be before the start date.", status=422)
    if (end - start).days >= MAX_DAYS:
        raise QueueError("range_too_long", "Khoảng thời gian tối đa là 3 năm.", "The longest range is 3 years.", status=422)


def parse_day(text: str | None, default: date, name: str) -> date:
    """YYYY-MM-DD (ISO 8601), or dd/mm/yyyy as typed on Vietnamese pages."""
    if not text:
        return default
    text = text.strip()
    try:
        if "/" in text:
            d, m, y = (int(p) for p in text.split("/"))
            return date(y, m, d)
        return date.fromisoformat(text)
    except ValueError:
        raise QueueError(
            "bad_date", f"Ngày '{text}' ({name}) không hợp lệ: dùng YYYY-MM-DD.", f"Invalid date '{text}' ({name}): use YYYY-MM-DD.", status=422
        ) from None


def month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def normalise_group(group_by: str | None) -> str:
    g = ALIASES.get(group_by or "", group_by or "service")
    if g not in GROUPS:
        raise QueueError(
            "bad_group_by",
            f"Cách nhóm '{group_by}' không hợp lệ: dùng {', '.join(GROUPS)}.",
            f"Unknown group_by '{group_by}': use {', '.join(GROUPS)}.",
            status=422,
        )
    return g


# ---- labels ----------------------------------------------------------------------------


@dataclass
class Names:
    """Small lookup tables, so the big queries need no joins for names."""

    counters: dict[int, Counter]
    users: dict[int, User]
    services: dict[int, Service]
    groups: dict[int, PriorityGroup]

    @classmethod
    def load(cls, session: Session, office: Office) -> Names:
        counters = {c.id: c for c in session.scalars(select(Counter).where(Counter.office_id == office.id))}
        services = {s.id: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
        groups = {g.id: g for g in session.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id))}
        # Clerks of the office, and anyone else who ever served a leg here (an admin of all offices).
        users = {u.id: u for u in session.scalars(select(User).where(or_(User.office_id == office.id, User.office_id.is_(None))))}
        return cls(counters, users, services, groups)

    def user_name(self, user_id: int | None) -> str | None:
        u = self.users.get(user_id) if user_id is not None else None
        return (u.full_name or u.username) if u else None


def rating_scale(office: Office) -> list[str]:
    from motcua.engine.ratings import scale

    return scale(office)[0]


def satisfied(score: int, scale: int) -> bool:
    """The better half of the scale (score 1 is the best)."""
    return score <= scale // 2


# ---- the summary -----------------------------------------------------------------------


@dataclass
class _Acc:
    counts: dict[str, int] = field(default_factory=dict)
    waits: list[int] = field(default_factory=list)
    services: list[int] = field(default_factory=list)
    ratings: dict[int, int] = field(default_factory=dict)
    satisfied: int = 0

    def add_counts(self, other: dict[str, int]) -> None:
        for k, v in other.items():
            self.counts[k] = self.counts.get(k, 0) + v


COUNT_KEYS = (
    "legs", "issued", "served", "no_show", "cancelled", "transferred", "unfinished", "priority",
    "recalls", "out_of_order", "eta_n", "eta_within", "eta_error_ms", "eta_abs_error_ms",
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


def _key_expr(group_by: str, office: Office, start: date, end: date, dialect: str):  # noqa: ANN202
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
    return cast(L.c.business_day, String)  # text: the same key from every query and driver


def _in_range(office: Office, start: date, end: date):  # noqa: ANN202
    return and_(L.c.office_id == office.id, L.c.business_day >= start, L.c.business_day <= end)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _wait(dialect: str):  # noqa: ANN202
    return ms_between(L.c.called_at, L.c.queued_at, dialect)


def _service_time(dialect: str):  # noqa: ANN202
    return case((and_(L.c.started_at.is_not(None), L.c.finished_at.is_not(None)), ms_between(L.c.finished_at, L.c.started_at, dialect)))


def _plain_rows(session: Session, stmt: Any) -> list[tuple]:
    """All rows as the driver returns them, without building a Row object each: a year of
    legs is a million rows, and this halves the Python time. Only for columns whose driver
    values are already what we want (integers; the day key is cast to text)."""
    result = session.execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


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


def _flag(cond) -> Any:  # noqa: ANN001
    return func.sum(case((cond, 1), else_=0))


def _durations(s: Session, key: Any, where: Any, dialect: str) -> tuple[dict[Any, list[int]], dict[Any, list[int]]]:
    """Every wait and service time by group, sorted, for exact medians and p90: a year is about
    a million rows, fetched in one go and sorted in Python (faster than window functions on both
    databases)."""
    waits: defaultdict[Any, list[int]] = defaultdict(list)
    services: defaultdict[Any, list[int]] = defaultdict(list)
    q = select(key, _wait(dialect), _service_time(dialect)).select_from(L).where(where, or_(L.c.called_at.is_not(None), L.c.started_at.is_not(None)))
    for k, w, sv in _plain_rows(s, q):
        if w is not None:
            waits[k].append(w)
        if sv is not None:
            services[k].append(sv)
    for values in (*waits.values(), *services.values()):
        values.sort()
    return waits, services


def wait_stats(session: Session, office: Office, start: date, end: date, group_by: str = "counter") -> list[dict[str, Any]]:
    """Only the waiting times per group (mean, median, p90, in seconds): the per-counter chart
    beside a report grouped otherwise, at a third of a summary's cost."""
    group_by = normalise_group(group_by)
    check_range(start, end)
    dialect = _dialect(session)
    key = _key_expr(group_by, office, start, end, dialect).label("k")
    waits, _ = _durations(session, key, _in_range(office, start, end), dialect)
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
    dialect = _dialect(session)
    key = _key_expr(group_by, office, start, end, dialect).label("k")
    where = _in_range(office, start, end)
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

    def estimates(s: Session) -> list[tuple]:
        """The estimates printed on first legs against their real waits. The wait is computed
        once, in a subquery that OFFSET 0 keeps the planner from merging into the sums."""
        first = (
            select(key, _wait(dialect).label("w"), T.c.eta_low, T.c.eta_high)
            .select_from(L.join(T, T.c.id == L.c.ticket_id))
            .where(where, L.c.seq == 1, L.c.called_at.is_not(None), T.c.eta_low.is_not(None), T.c.eta_high.is_not(None))
            .offset(0)
            .subquery()
        )
        low_ms, high_ms = first.c.eta_low * 60000, first.c.eta_high * 60000
        err = case((first.c.w < low_ms, first.c.w - low_ms), (first.c.w > high_ms, first.c.w - high_ms), else_=0)
        q = select(first.c.k, func.count(), _flag(and_(first.c.w >= low_ms, first.c.w <= high_ms)), func.sum(err), func.sum(func.abs(err)))
        return s.execute(q.group_by(first.c.k)).all()

    def durations(s: Session) -> tuple[dict[Any, list[int]], dict[Any, list[int]]]:
        return _durations(s, key, where, dialect)

    def rated(s: Session) -> list[tuple]:
        """Ratings, by the leg they rate."""
        q = select(key, R.c.score, R.c.scale, func.count()).select_from(L.join(R, R.c.leg_id == L.c.id)).where(where)
        return s.execute(q.group_by(key, R.c.score, R.c.scale)).all()

    parallel = (end - start).days >= PARALLEL_FROM_DAYS
    (waits, services), count_rows, eta_rows, rating_rows = _run(session, [durations, counts, estimates, rated], parallel)
    for row in count_rows:
        acc(row[0]).add_counts({k: int(v or 0) for k, v in zip(COUNT_KEYS, row[1:], strict=False)})
    for k, n, within, err_sum, abs_sum in eta_rows:
        acc(k).add_counts({"eta_n": int(n), "eta_within": int(within or 0), "eta_error_ms": int(err_sum or 0), "eta_abs_error_ms": int(abs_sum or 0)})
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
        rows.append({**_group_fields(group_by, k, names), **_figures(a, levels)})
    rows.sort(key=lambda r: _sort_key(group_by, r, names))

    total = _Acc()
    for a in accs.values():
        total.add_counts(a.counts)
        total.waits.extend(a.waits)
        total.services.extend(a.services)
        for s, n in a.ratings.items():
            total.ratings[s] = total.ratings.get(s, 0) + n
        total.satisfied += a.satisfied
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
    out.update(
        {
            "eta_n": c["eta_n"],
            "eta_within": c["eta_within"],
            "eta_within_share": stats.share(c["eta_within"], c["eta_n"]),
            "eta_mean_error_s": stats.ms_to_s(stats.mean(c["eta_error_ms"], c["eta_n"])),
            "eta_mean_abs_error_s": stats.ms_to_s(stats.mean(c["eta_abs_error_ms"], c["eta_n"])),
        }
    )
    return out


# ---- charts ----------------------------------------------------------------------------


def arrivals_heatmap(session: Session, office: Office, start: date, end: date) -> list[list[int]]:
    """Tickets issued by weekday (rows, Monday first) and local hour (columns 0–23)."""
    check_range(start, end)
    dialect = _dialect(session)
    wd = iso_weekday(L.c.business_day, dialect).label("wd")
    hr = local_hour(L.c.queued_at, office.timezone, start, end, dialect).label("hr")
    grid = [[0] * 24 for _ in range(7)]
    q = select(wd, hr, func.count()).where(_in_range(office, start, end), L.c.seq == 1).group_by(wd, hr)
    for w, h, n in session.execute(q):
        grid[int(w) - 1][int(h)] += n
    return grid


def wait_histogram(waits_ms: list[int]) -> list[dict[str, Any]]:
    """Counts of waits in 5-minute bins, [low, high) minutes; the last bin is open-ended."""
    edges = list(range(0, HISTOGRAM_LAST_MIN + 1, HISTOGRAM_STEP_MIN))
    bins = [{"from_min": lo, "to_min": hi, "count": 0} for lo, hi in pairwise(edges)]
    bins.append({"from_min": HISTOGRAM_LAST_MIN, "to_min": None, "count": 0})
    step_ms = HISTOGRAM_STEP_MIN * 60000
    for w in waits_ms:
        bins[min(w // step_ms, len(bins) - 1) if w >= 0 else 0]["count"] += 1
    return bins


# ---- out-of-order calls ----------------------------------------------------------------


def out_of_order_calls(session: Session, office: Office, start: date, end: date, limit: int | None = None) -> list[dict[str, Any]]:
    """Every call out of turn with its reason, who called, and how many people waiting longer in
    the same field were passed over (the audit a citizen's complaint needs)."""
    check_range(start, end)
    dialect = _dialect(session)
    other = L.alias("other")
    passed = (
        select(func.count())
        .select_from(other)
        .where(
            other.c.office_id == L.c.office_id,
            other.c.business_day == L.c.business_day,
            other.c.service_id == L.c.service_id,
            other.c.ticket_id != L.c.ticket_id,
            other.c.queued_at < L.c.queued_at,
            or_(other.c.called_at.is_(None), other.c.called_at > E.c.at),
            or_(other.c.finished_at.is_(None), other.c.finished_at > E.c.at),
        )
        .scalar_subquery()
    )
    q = (
        select(E.c.at, E.c.reason, E.c.counter_id, E.c.user_id, T.c.code, L.c.service_id, L.c.business_day, _wait(dialect), passed)
        .select_from(L.join(T, T.c.id == L.c.ticket_id).join(E, and_(E.c.ticket_id == L.c.ticket_id, E.c.kind == "called", E.c.at == L.c.called_at)))
        .where(_in_range(office, start, end), L.c.out_of_order.is_(True))
        .order_by(E.c.at, E.c.id)
    )
    if limit:
        q = q.limit(limit)
    names = Names.load(session, office)
    out = []
    for at, reason, counter_id, user_id, code, service_id, day, wait, n_passed in session.execute(q):
        c = names.counters.get(counter_id)
        s = names.services.get(service_id)
        out.append(
            {
                "at": clock.local(at, office.timezone),
                "business_day": day,
                "ticket_code": code,
                "service": s.code if s else None,
                "service_name": s.name if s else None,
                "counter": c.number if c else None,
                "clerk": names.user_name(user_id),
                "reason": reason,
                "wait_s": stats.ms_to_s(wait),
                "passed_over": int(n_passed or 0),
            }
        )
    return out


# (key, Vietnamese header) of the out-of-order list.
OUT_OF_ORDER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("at", "Gọi lúc"),
    ("business_day", "Ngày"),
    ("ticket_code", "Số phiếu"),
    ("service", "Mã lĩnh vực"),
    ("service_name", "Lĩnh vực"),
    ("counter", "Quầy"),
    ("clerk", "Cán bộ"),
    ("reason", "Lý do"),
    ("wait_s", "Đã chờ (giây)"),
    ("passed_over", "Số người chờ lâu hơn bị vượt"),
)


# ---- the per-ticket log ----------------------------------------------------------------

# (key, Vietnamese header); one row per leg. Times are the office's local time.
TICKET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("business_day", "Ngày"),
    ("ticket_code", "Số phiếu"),
    ("ticket_number", "Số thứ tự"),
    ("leg", "Lượt"),
    ("service", "Mã lĩnh vực"),
    ("service_name", "Lĩnh vực"),
    ("priority", "Nhóm ưu tiên"),
    ("issued_at", "Lấy số lúc"),
    ("queued_at", "Vào hàng đợi lúc"),
    ("called_at", "Gọi lúc"),
    ("started_at", "Bắt đầu lúc"),
    ("finished_at", "Kết thúc lúc"),
    ("counter", "Quầy"),
    ("clerk", "Cán bộ"),
    ("outcome", "Kết quả"),
    ("outcome_label", "Kết quả (diễn giải)"),
    ("recalls", "Số lần gọi lại"),
    ("out_of_order", "Gọi không theo thứ tự"),
    ("call_reason", "Lý do gọi không theo thứ tự"),
    ("wait_s", "Thời gian chờ (giây)"),
    ("service_s", "Thời gian phục vụ (giây)"),
    ("eta_low_min", "Dự kiến chờ từ (phút)"),
    ("eta_high_min", "Dự kiến chờ đến (phút)"),
    ("rating_score", "Điểm đánh giá (1 = tốt nhất)"),
    ("rating_label", "Mức đánh giá"),
    ("rating_reason", "Lý do đánh giá"),
)
TIME_KEYS = ("issued_at", "queued_at", "called_at", "started_at", "finished_at")


def _call_reasons(session: Session, office: Office, start: date, end: date) -> dict[int, str | None]:
    q = (
        select(L.c.id, E.c.reason)
        .select_from(L.join(E, and_(E.c.ticket_id == L.c.ticket_id, E.c.kind == "called", E.c.at == L.c.called_at)))
        .where(_in_range(office, start, end), L.c.out_of_order.is_(True))
    )
    return dict(session.execute(q).all())


def ticket_log(session: Session, office: Office, start: date, end: date, *, limit: int | None = None, offset: int = 0) -> Iterator[dict[str, Any]]:
    """The per-leg log, in order of business day, ticket and leg; times as aware local datetimes."""
    check_range(start, end)
    dialect = _dialect(session)
    names = Names.load(session, office)
    scale = rating_scale(office)
    reasons = _call_reasons(session, office, start, end)
    q = (
        select(
            L.c.id, L.c.business_day, T.c.code, T.c.number, L.c.seq, L.c.service_id, T.c.priority_group_id,
            T.c.issued_at, L.c.queued_at, L.c.called_at, L.c.started_at, L.c.finished_at, L.c.counter_id, L.c.clerk_id,
            L.c.outcome, L.c.recalls, L.c.out_of_order, _wait(dialect), _service_time(dialect), T.c.eta_low, T.c.eta_high,
            R.c.score, R.c.scale, R.c.reason,
        )
        .select_from(L.join(T, T.c.id == L.c.ticket_id).outerjoin(R, R.c.leg_id == L.c.id))
        .where(_in_range(office, start, end))
        .order_by(L.c.business_day, L.c.ticket_id, L.c.seq)
        .execution_options(stream_results=True, yield_per=2000)
    )
    if limit is not None:
        q = q.limit(limit).offset(offset)
    tz = office.timezone
    for (
        leg_id, day, code, number, seq, service_id, group_id, issued, queued, called, started, finished, counter_id, clerk_id,
        outcome, recalls, ooo, wait, svc, eta_low, eta_high, score, scale_n, rating_reason,
    ) in session.execute(q):
        s = names.services.get(service_id)
        c = names.counters.get(counter_id) if counter_id else None
        g = names.groups.get(group_id) if group_id else None
        first = seq == 1
        yield {
            "business_day": day,
            "ticket_code": code,
            "ticket_number": number,
            "leg": seq,
            "service": s.code if s else None,
            "service_name": s.name if s else None,
            "priority": g.name if g else None,
            "issued_at": clock.local(issued, tz),
            "queued_at": clock.local(queued, tz),
            "called_at": clock.local(called, tz) if called else None,
            "started_at": clock.local(started, tz) if started else None,
            "finished_at": clock.local(finished, tz) if finished else None,
            "counter": c.number if c else None,
            "clerk": names.user_name(clerk_id),
            "outcome": outcome,
            "outcome_label": OUTCOMES_VI.get(outcome, outcome),
            "recalls": recalls,
            "out_of_order": bool(ooo),
            "call_reason": reasons.get(leg_id) if ooo else None,
            "wait_s": stats.ms_to_s(wait),
            "service_s": stats.ms_to_s(svc),
            "eta_low_min": eta_low if first else None,
            "eta_high_min": eta_high if first else None,
            "rating_score": score,
            "rating_label": (scale[score - 1] if score is not None and scale_n == len(scale) and score <= len(scale) else None),
            "rating_reason": rating_reason,
        }


def ticket_log_json(row: dict[str, Any]) -> dict[str, Any]:
    """A log row for JSON: ISO 8601 dates and times with the office's UTC offset."""
    out = dict(row)
    out["business_day"] = row["business_day"].isoformat()
    for k in TIME_KEYS:
        out[k] = row[k].isoformat(timespec="seconds") if row[k] else None
    return out


def count_legs(session: Session, office: Office, start: date, end: date) -> int:
    return session.scalar(select(func.count()).select_from(L).where(_in_range(office, start, end))) or 0
