"""Numbers stay gap-free and unique, and no ticket is called twice, under real concurrency:
many threads on SQLite, several processes on PostgreSQL, eight counters pressing "next" at once."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from motcua.app import create_app
from motcua.db import Database
from motcua.engine import counters, tickets
from motcua.models import Office, Ticket, TicketEvent, User
from tests.support.env import DEMO_CONFIG

pytestmark = pytest.mark.slow

FIELDS = ("CT", "KD", "XH")  # the demo fields without a daily quota


def issue_many(db: Database, n: int, worker: int, errors: list) -> None:
    """Issue n tickets round-robin over FIELDS, each in its own transaction."""
    try:
        with db.read() as s:
            office = s.scalar(select(Office).where(Office.code == "demo"))
        for i in range(n):
            with db.write() as s:
                tickets.issue_ticket(s, office.id, FIELDS[(i + worker) % len(FIELDS)])
    except Exception as exc:
        errors.append(exc)


def assert_gap_free(db: Database, expected_total: int) -> None:
    with db.read() as s:
        rows = s.execute(select(Ticket.series_id, Ticket.number)).all()
    by_series = defaultdict(list)
    for series, number in rows:
        by_series[series].append(number)
    assert sum(len(v) for v in by_series.values()) == expected_total
    for series, numbers in by_series.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"series {series} has gaps or duplicates"


def test_16_threads_issue_3200_tickets_gap_free_on_sqlite(db: Database) -> None:
    errors: list = []
    threads = [threading.Thread(target=issue_many, args=(db, 200, w, errors)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_gap_free(db, 16 * 200)


def _process_worker(url: str, config: str, instance: str, n: int, worker: int, out) -> None:
    app = create_app(config, database_url=url, instance=instance, plugins=False)
    errors: list = []
    issue_many(app.extensions["motcua"].db, n, worker, errors)
    out.put([repr(e) for e in errors])


def _issue_from_processes(app, url: str, tmp_path, processes: int, each: int) -> None:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(url, str(DEMO_CONFIG), str(tmp_path / f"p{w}"), each, w, out)) for w in range(processes)]
    for p in procs:
        p.start()
    results = [out.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(30)
    assert results == [[]] * processes
    assert_gap_free(app.extensions["motcua"].db, processes * each)


def test_4_processes_issue_gap_free_on_postgresql(pg_url: str, make_app, tmp_path) -> None:
    app, _ = make_app(database_url=pg_url)
    _issue_from_processes(app, pg_url, tmp_path, 4, 150)


def test_4_processes_issue_gap_free_on_sqlite(make_app, tmp_path) -> None:
    app, _ = make_app()
    _issue_from_processes(app, app.extensions["motcua"].db.url, tmp_path, 4, 100)


EIGHT_COUNTERS = """
[[offices]]
code = "demo"
name = "Tám quầy"
[[offices.fields]]
code = "HT"
name = "Hộ tịch"
prefix = "A"
""" + "".join(f"""
[[offices.counters]]
number = {n}
fields = {{ HT = 1 }}
""" for n in range(1, 9))


def _eight_counters_race(db: Database, rounds: int) -> None:
    with db.read() as s:
        office = s.scalar(select(Office))
    with db.write() as s:
        for _ in range(8 * rounds - 3):  # fewer tickets than calls: some "next" find nobody
            tickets.issue_ticket(s, office.id, "HT")
    barrier = threading.Barrier(8)
    errors: list = []
    got: dict[int, list[str]] = defaultdict(list)

    def counter_loop(number: int) -> None:
        try:
            with db.write() as s:
                c = counters.find_counter(s, s.merge(office, load=False), number)
                counters.open_counter(s, c, s.scalar(select(User).where(User.username == f"demo-clerk{number}")))
            for _ in range(rounds):
                barrier.wait()
                with db.write() as s:
                    c = counters.find_counter(s, s.merge(office, load=False), number)
                    user = s.scalar(select(User).where(User.username == f"demo-clerk{number}"))
                    if c.current_ticket is not None:
                        counters.start(s, c, user)
                        counters.finish(s, c, user)
                    ticket_id = counters.call_next(s, c, user)
                    if ticket_id is not None:
                        got[number].append(s.get(Ticket, ticket_id).code)
        except Exception as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=counter_loop, args=(n,)) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    called = [code for codes in got.values() for code in codes]
    assert len(called) == len(set(called)) == 8 * rounds - 3
    with db.read() as s:
        per_ticket = s.execute(
            select(TicketEvent.ticket_id, func.count()).where(TicketEvent.kind == "called").group_by(TicketEvent.ticket_id)
        ).all()
    assert all(n == 1 for _, n in per_ticket) and len(per_ticket) == 8 * rounds - 3


def test_8_counters_never_call_the_same_ticket_on_sqlite(make_app, tmp_path) -> None:
    config = tmp_path / "eight.toml"
    config.write_text(EIGHT_COUNTERS, encoding="utf-8")
    app, _ = make_app(config=config)
    _eight_counters_race(app.extensions["motcua"].db, rounds=15)


def test_8_counters_never_call_the_same_ticket_on_postgresql(pg_url: str, make_app, tmp_path) -> None:
    config = tmp_path / "eight.toml"
    config.write_text(EIGHT_COUNTERS, encoding="utf-8")
    app, _ = make_app(config=config, database_url=pg_url)
    _eight_counters_race(app.extensions["motcua"].db, rounds=15)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_one_key_sent_by_8_kiosk_threads_at_once_makes_one_ticket(request, database: str) -> None:
    """A double tap, or a kiosk retrying while its first request still runs: the first request
    issues, every other one fails the key's unique insert and answers with that first ticket;
    the numbers those drew roll back with them."""
    from motcua.models import NumberCounter, PrintJob

    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    app, demos = request.getfixturevalue("make_app")(database_url=url)  # set up after the database, so stopped before it goes
    kiosk = demos["demo"].kiosk
    start = threading.Barrier(8)
    answers: list = []

    def tap() -> None:
        client = app.test_client()
        start.wait()
        r = client.post("/api/v1/tickets", json={"service": "CT", "idempotency_key": "double-tap-0001"}, headers=kiosk)
        answers.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(status for status, _ in answers) == [200] * 7 + [201]
    assert len({body["id"] for _, body in answers}) == 1
    db = app.extensions["motcua"].db
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        assert s.scalars(select(NumberCounter.last_number)).all() == [1]
    # The one ticket prints once; let the spooler finish it before the database goes.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with db.read() as s:
            statuses = s.scalars(select(PrintJob.status)).all()
        if statuses and all(st not in ("pending", "printing") for st in statuses):
            break
        time.sleep(0.05)
    assert len(statuses) == 1
