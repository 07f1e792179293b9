"""Report speed on a year of a busy centre: monthly and yearly summaries on SQLite and PostgreSQL.

Generates one year (2025, Monday–Saturday) of an office with 8 fields and 12 counters: by
default one million tickets with their queue legs (about 5 % transferred), their log events
(issued, called, recalled, started, finished / no-show / cancelled / transferred) and ratings
for about a third of the services, bulk-inserted (executemany on SQLite, COPY on PostgreSQL)
into databases migrated to the current schema. Then times every summary (by field, counter,
clerk, hour, weekday, day) for one month and for the whole year, plus the report page's other
queries (arrivals heatmap, out-of-order calls), and writes the figures to docs/benchmarks.md.

    python bench/reports.py [--tickets 1000000] [--no-postgres] [--keep DIR]

Targets: a monthly summary under 1 s and a yearly one under 5 s, on both databases.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from manager import reports
from motcua.config import Config
from motcua.db import Database
from motcua.migrate import upgrade
from motcua.models import Counter, Office, PriorityGroup, Role, Service, User
from motcua.seed import seed

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
YEAR = 2025
UTC7 = timedelta(hours=7)  # Asia/Ho_Chi_Minh has no daylight saving
GROUPS = reports.GROUPS
REASONS = ["Công dân cao tuổi, sức khỏe yếu", "Hồ sơ bổ sung theo hẹn", "Người khuyết tật đi cùng trẻ nhỏ", "Gọi lại số bị lỡ"]

FIELDS = [  # code, name, prefix, weight, mean service minutes
    ("HT", "Hộ tịch", "A", 24, 8), ("CT", "Chứng thực", "B", 30, 4), ("DD", "Đất đai", "C", 12, 15), ("KD", "Đăng ký kinh doanh", "D", 8, 12),
    ("XH", "Lao động, thương binh và xã hội", "E", 9, 10), ("TP", "Tư pháp", "F", 7, 9), ("XD", "Xây dựng", "G", 5, 14), ("GD", "Giáo dục", "H", 5, 7),
]
COUNTERS = {  # number: fields served
    1: ["HT"], 2: ["HT", "CT"], 3: ["CT"], 4: ["CT", "HT"], 5: ["DD"], 6: ["DD", "XD"], 7: ["KD"], 8: ["XH"], 9: ["TP", "XH"],
    10: ["XD", "GD"], 11: ["GD", "TP"], 12: ["CT", "KD"],
}


def bench_config() -> Config:
    return Config.model_validate({
        "offices": [{
            "code": "bench", "name": "Trung tâm Phục vụ hành chính công (benchmark)", "timezone": "Asia/Ho_Chi_Minh",
            "fields": [{"code": c, "name": n, "prefix": p, "service_minutes": m} for c, n, p, _, m in FIELDS],
            "counters": [{"number": k, "fields": dict.fromkeys(v, 1)} for k, v in COUNTERS.items()],
            "priority_groups": [{"code": "elderly", "name": "Người cao tuổi"}, {"code": "disability", "name": "Người khuyết tật"}],
        }],
    })


# ---- generating a year ----------------------------------------------------------------------


@dataclass
class Rows:
    tickets: list[tuple]
    legs: list[tuple]
    events: list[tuple]
    ratings: list[tuple]


def _ts(dt: datetime) -> str:
    """The naive UTC text both databases take (SQLAlchemy's own SQLite format)."""
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}.{dt.microsecond:06d}"


def working_days() -> list[date]:
    d, out = date(YEAR, 1, 1), []
    while d.year == YEAR:
        if d.weekday() < 6:  # Saturday mornings are open too
            out.append(d)
        d += timedelta(days=1)
    return out


def arrival_seconds(rng: random.Random, saturday: bool) -> int:
    """Seconds after local midnight: a morning peak around 9:00, a smaller one around 14:30."""
    if saturday or rng.random() < 0.62:
        s = rng.triangular(7.5, 11.5, 8.8)
    else:
        s = rng.triangular(13.5, 17.0, 14.4)
    return int(s * 3600)


def generate(n_tickets: int, ids: dict[str, Any], seed_: int = 2025) -> Rows:
    rng = random.Random(seed_)
    days = working_days()
    weights = [7 if d.weekday() < 5 else 3 for d in days]  # Saturdays are half days
    per_day = [0] * len(days)
    for i in rng.choices(range(len(days)), weights=weights, k=n_tickets):
        per_day[i] += 1
    field_codes = [f[0] for f in FIELDS]
    field_weights = [f[3] for f in FIELDS]
    service_mean = {f[0]: f[4] * 60 for f in FIELDS}
    serving = {code: [n for n, fs in COUNTERS.items() if code in fs] for code in field_codes}
    sid, cid, clerks, office, groups = ids["services"], ids["counters"], ids["clerks"], ids["office"], ids["groups"]
    prefix = {f[0]: f[2] for f in FIELDS}
    tickets, legs, events, ratings = [], [], [], []
    t_id = leg_id = ev_id = r_id = 0

    def event(ticket: int, kind: str, at: datetime, frm: str | None, to: str, service: int, counter: int | None, user: int | None,
              reason: str | None = None, data: str | None = None) -> None:
        nonlocal ev_id
        ev_id += 1
        events.append((ev_id, office, ticket, kind, _ts(at), frm, to, service, counter, user, None, reason, data))

    for day, count in zip(days, per_day, strict=True):
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - UTC7
        numbers = dict.fromkeys(field_codes, 0)
        day_iso = day.isoformat()
        shift = {n: clerks[(n + day.toordinal()) % len(clerks)] for n in COUNTERS}  # clerks rotate
        for arrival in sorted(arrival_seconds(rng, day.weekday() == 5) for _ in range(count)):
            t_id += 1
            code = rng.choices(field_codes, weights=field_weights)[0]
            numbers[code] += 1
            issued = midnight + timedelta(seconds=arrival, microseconds=rng.randrange(1_000_000))
            prio = groups[rng.randrange(len(groups))] if rng.random() < 0.08 else None
            wait = min(rng.expovariate(1 / 720), 3 * 3600)
            eta_mid = max(0.0, wait / 60 * rng.uniform(0.6, 1.4))
            eta_low, eta_high = int(eta_mid * 0.75), int(eta_mid * 1.25) + 1
            roll = rng.random()
            outcome = "served" if roll < 0.85 else "no_show" if roll < 0.93 else "cancelled" if roll < 0.95 else "transferred"
            # In TICKET_COLS order; status (9), service (4) and counter (12) are settled below.
            tickets.append([t_id, f"b{t_id:x}", office, sid[code], sid[code], day_iso, numbers[code], f"{prefix[code]}{numbers[code]:03d}",
                            prio, None, issued.timestamp(), _ts(issued), None, None, None, None, 0, eta_low, eta_high])
            event(t_id, "issued", issued, None, "waiting", sid[code], None, None, data='{"priority": null}')
            queued, seq, current = issued, 1, code
            while True:
                leg_id += 1
                counter = rng.choice(serving[current])
                clerk = shift[counter]
                if outcome == "cancelled":
                    gone = queued + timedelta(seconds=wait * rng.uniform(0.2, 0.9))
                    legs.append((leg_id, t_id, office, day_iso, seq, sid[current], prio is not None, _ts(queued), None, None, _ts(gone),
                                 None, None, 0, False, "cancelled"))
                    event(t_id, "cancelled", gone, "waiting", "cancelled", sid[current], None, None, reason="citizen")
                    status = "cancelled"
                    break
                called = queued + timedelta(seconds=wait, microseconds=rng.randrange(1_000_000))
                ooo = rng.random() < 0.005
                recalls = 1 if rng.random() < 0.06 else 0
                event(t_id, "called", called, "waiting", "called", sid[current], cid[counter], clerk, reason=rng.choice(REASONS) if ooo else None,
                      data='{"out_of_order": true}' if ooo else None)
                if recalls:
                    event(t_id, "recalled", called + timedelta(seconds=40), "called", "called", sid[current], cid[counter], clerk, data='{"recall": 1}')
                if outcome == "no_show":
                    gone = called + timedelta(seconds=120)
                    legs.append((leg_id, t_id, office, day_iso, seq, sid[current], prio is not None, _ts(queued), _ts(called), None, _ts(gone),
                                 cid[counter], clerk, recalls, ooo, "no_show"))
                    event(t_id, "no_show", gone, "called", "no_show", sid[current], cid[counter], clerk)
                    status = "no_show"
                    break
                started = called + timedelta(seconds=rng.uniform(20, 90))
                finished = started + timedelta(seconds=rng.lognormvariate(0, 0.5) * service_mean[current])
                event(t_id, "started", started, "called", "serving", sid[current], cid[counter], clerk)
                if outcome == "transferred":
                    target = rng.choice([c for c in field_codes if c != current])
                    legs.append((leg_id, t_id, office, day_iso, seq, sid[current], prio is not None, _ts(queued), _ts(called), _ts(started),
                                 _ts(finished), cid[counter], clerk, recalls, ooo, "transferred"))
                    event(t_id, "transferred", finished, "serving", "waiting", sid[target], cid[counter], clerk,
                          data=f'{{"from": "{current}", "to": "{target}", "position": "front"}}')
                    queued, seq, current, outcome = finished, seq + 1, target, "served"
                    wait = min(rng.expovariate(1 / 300), 3600)
                    continue
                legs.append((leg_id, t_id, office, day_iso, seq, sid[current], prio is not None, _ts(queued), _ts(called), _ts(started),
                             _ts(finished), cid[counter], clerk, recalls, ooo, "served"))
                event(t_id, "finished", finished, "serving", "done", sid[current], cid[counter], clerk)
                status = "done"
                if rng.random() < 0.33:
                    r_id += 1
                    score = rng.choices([1, 2, 3, 4], weights=[55, 30, 10, 5])[0]
                    ratings.append((r_id, t_id, office, leg_id, sid[current], cid[counter], clerk, score, 4,
                                    "Chờ lâu" if score == 4 else None, day_iso, _ts(finished + timedelta(seconds=12))))
                break
            row = tickets[-1]
            row[4], row[9] = sid[current], status
            if status in ("done", "no_show"):
                row[12] = cid[counter]
    return Rows([tuple(t) for t in tickets], legs, events, ratings)


TICKET_COLS = ("id", "public_id", "office_id", "series_id", "service_id", "business_day", "number", "code", "priority_group_id", "status",
               "queue_key", "issued_at", "counter_id", "idempotency_key", "device_id", "issued_by_id", "waiting_ahead", "eta_low", "eta_high")
LEG_COLS = ("id", "ticket_id", "office_id", "business_day", "seq", "service_id", "priority", "queued_at", "called_at", "started_at",
            "finished_at", "counter_id", "clerk_id", "recalls", "out_of_order", "outcome")
EVENT_COLS = ("id", "office_id", "ticket_id", "kind", "at", "from_status", "to_status", "service_id", "counter_id", "user_id", "device_id",
              "reason", "data")
RATING_COLS = ("id", "ticket_id", "office_id", "leg_id", "service_id", "counter_id", "clerk_id", "score", "scale", "reason", "business_day",
               "created_at")


# ---- databases ------------------------------------------------------------------------------


def prepare(url: str) -> tuple[Database, dict[str, Any]]:
    """A migrated database with the office, its fields, counters and clerks."""
    db = Database(url)
    upgrade(db.engine)
    with db.write() as s:
        [office] = seed(s, bench_config())
        clerks = []
        for i in range(1, 17):
            u = User(username=f"canbo{i:02d}", full_name=f"Cán bộ {i:02d}", password_hash="x", role=Role.clerk, office_id=office.id,
                     created_at=datetime.now(UTC))
            s.add(u)
            s.flush()
            clerks.append(u.id)
        ids = {
            "office": office.id,
            "services": {svc.code: svc.id for svc in s.scalars(select(Service).where(Service.office_id == office.id))},
            "counters": {c.number: c.id for c in s.scalars(select(Counter).where(Counter.office_id == office.id))},
            "groups": [g.id for g in s.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id))],
            "clerks": clerks,
        }
    return db, ids


def load_sqlite(path: Path, rows: Rows) -> None:
    import sqlite3

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    for table, cols, data in (("tickets", TICKET_COLS, rows.tickets), ("ticket_legs", LEG_COLS, rows.legs),
                              ("ticket_events", EVENT_COLS, rows.events), ("ratings", RATING_COLS, rows.ratings)):
        con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", data)
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()


def load_postgres(url: str, rows: Rows) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con, con.cursor() as cur:
        for table, cols, data in (("tickets", TICKET_COLS, rows.tickets), ("ticket_legs", LEG_COLS, rows.legs),
                                  ("ticket_events", EVENT_COLS, rows.events), ("ratings", RATING_COLS, rows.ratings)):
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        con.commit()
        con.autocommit = True
        cur.execute("VACUUM ANALYZE")


# ---- timing ---------------------------------------------------------------------------------


def timed(fn, repeat: int = 3) -> tuple[float, float]:
    """(first run, best of `repeat`) in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times)


def measure(db: Database) -> dict[str, Any]:
    out: dict[str, Any] = {}
    month = reports.month_range(YEAR, 10)
    year = (date(YEAR, 1, 1), date(YEAR, 12, 31))
    with db.read() as s:
        office = s.scalar(select(Office).where(Office.code == "bench"))
        for label, (start, end) in (("month", month), ("year", year)):
            for g in GROUPS:
                out[(label, g)] = timed(lambda g=g, start=start, end=end: reports.summary(s, office, start, end, g))
            out[(label, "heatmap")] = timed(lambda start=start, end=end: reports.arrivals_heatmap(s, office, start, end))
            out[(label, "out_of_order")] = timed(lambda start=start, end=end: reports.out_of_order_calls(s, office, start, end, limit=201))
            out[(label, "legs")] = reports.count_legs(s, office, start, end)
    return out


def run(name: str, url: str, rows: Rows | None, n: int, loader) -> tuple[dict[str, Any], dict[str, Any]]:
    t0 = time.perf_counter()
    db, ids = prepare(url)
    if rows is None:
        rows = generate(n, ids)
    t_gen = time.perf_counter() - t0
    t1 = time.perf_counter()
    loader(rows)
    t_load = time.perf_counter() - t1
    counts = {"tickets": len(rows.tickets), "legs": len(rows.legs), "events": len(rows.events), "ratings": len(rows.ratings)}
    print(f"{name}: generated + schema {t_gen:.1f} s, loaded {sum(counts.values()):,} rows in {t_load:.1f} s", flush=True)
    figures = measure(db)
    db.dispose()
    return figures, {"load_s": t_load, **counts, "rows": rows}


def run_postgres(rows: Rows, n: int) -> dict[str, Any]:
    """The same rows in a fresh PostgreSQL database, dropped afterwards."""
    name = f"motcua_bench_reports_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        figures, info = run("PostgreSQL", url, rows, n, lambda r: load_postgres(url, r))
        info.pop("rows")
        return {"figures": figures, **info}
    finally:
        admin.dispose()
        cleanup = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")  # a fresh connection: the server may have restarted
        try:
            with cleanup.connect() as c:
                c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        finally:
            cleanup.dispose()


def fmt(pair: tuple[float, float]) -> str:
    return f"{pair[1]:.2f} ({pair[0]:.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--keep", type=Path, help="keep the SQLite file in this folder")
    args = ap.parse_args()

    results: dict[str, dict] = {}
    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-reports-"))
    folder = args.keep or workdir
    folder.mkdir(parents=True, exist_ok=True)
    sqlite_path = folder / "reports.db"
    sqlite_path.unlink(missing_ok=True)
    failures: list[str] = []

    figures, info = run("SQLite", f"sqlite:///{sqlite_path}", None, args.tickets, lambda r: load_sqlite(sqlite_path, r))
    rows: Rows = info.pop("rows")
    results["SQLite"] = {"figures": figures, **info}
    if not args.no_postgres:
        try:
            results["PostgreSQL"] = run_postgres(rows, args.tickets)
        except Exception as exc:
            print(f"PostgreSQL run failed: {exc.__class__.__name__}: {exc}".splitlines()[0], flush=True)
            failures.append(f"PostgreSQL run failed ({exc.__class__.__name__}); run again for its figures.")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)

    report = render(results, args.tickets) + "".join(f"\n\n{f}" for f in failures)
    print(report)
    try:
        from bench.report import write_section
    except ImportError:
        print("(bench/report.py is missing: figures printed only)")
        return
    print("written to", write_section("Reports (bench/reports.py)", report))


def render(results: dict[str, dict], n: int) -> str:
    any_db = next(iter(results.values()))
    lines = [
        f"One year ({YEAR}, Monday–Saturday) of a centre with 8 fields and 12 counters: {any_db['tickets']:,} tickets, "
        f"{any_db['legs']:,} queue legs, {any_db['events']:,} log events, {any_db['ratings']:,} ratings "
        f"(`python bench/reports.py --tickets {n}`). Times in seconds: best of 3 (first run in brackets), "
        "one `manager.reports` call each, on a warm database.",
        "",
        "| database | load (s) | range | legs | " + " | ".join(GROUPS) + " | heatmap | out-of-order |",
        "|---|---:|---|---:|" + "---:|" * (len(GROUPS) + 2),
    ]
    for name, r in results.items():
        f = r["figures"]
        for label in ("month", "year"):
            cells = [fmt(f[(label, g)]) for g in (*GROUPS, "heatmap", "out_of_order")]
            lines.append(f"| {name} | {r['load_s']:.0f} | {'October' if label == 'month' else 'year'} | {f[(label, 'legs')]:,} | " + " | ".join(cells) + " |")
    def worst(label: str, i: int) -> float:
        return max(r["figures"][(label, g)][i] for r in results.values() for g in GROUPS)

    lines += [
        "",
        f"Slowest summary: month {worst('month', 1):.2f} s best of 3, {worst('month', 0):.2f} s first run (target < 1 s); "
        f"year {worst('year', 1):.2f} s best of 3, {worst('year', 0):.2f} s first run (target < 5 s). "
        "A summary's four reads run in parallel on their own connections from a week's range up (2 cores here).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
