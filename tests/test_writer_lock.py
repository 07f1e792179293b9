"""SQLite writers queue on motcua.db.WriterLock, across threads and across processes;
PostgreSQL writers of one process pass motcua.db.WriterGate a few at a time."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from motcua.db import DatabaseTimeout, WriterGate, WriterLock


def _bump_file(db_path: str, counter: Path, times: int) -> None:
    """A read-modify-write of a plain file: only exclusion keeps every increment."""
    lock = WriterLock(db_path)
    for _ in range(times):
        with lock:
            n = int(counter.read_text())
            counter.write_text(str(n + 1))
    lock.close()


def test_processes_and_threads_take_turns(tmp_path: Path) -> None:
    db_path, counter = str(tmp_path / "motcua.db"), tmp_path / "counter"
    counter.write_text("0")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_bump_file, args=(db_path, counter, 300)) for _ in range(3)]
    for p in procs:
        p.start()
    shared = WriterLock(db_path)  # one lock, as one Database gives its threads

    def bump() -> None:
        for _ in range(300):
            with shared:
                counter.write_text(str(int(counter.read_text()) + 1))

    threads = [threading.Thread(target=bump) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert int(counter.read_text()) == 6 * 300


def _held_elsewhere(path: str) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock this probe took
    return False


def test_a_nested_write_keeps_the_lock_until_the_outer_one_ends(tmp_path: Path) -> None:
    lock = WriterLock(str(tmp_path / "motcua.db"))
    path = str(tmp_path / "motcua.db-writer")
    with lock:
        with lock:
            assert _held_elsewhere(path)
        assert _held_elsewhere(path)  # the inner exit did not let another process in
    assert not _held_elsewhere(path)
    lock.close()


def test_a_forked_worker_takes_its_own_lock(tmp_path: Path) -> None:
    lock = WriterLock(str(tmp_path / "motcua.db"))
    with lock:  # the parent opens the file before forking, as a preloading server may
        pass
    parent_holds, child_done = multiprocessing.get_context("fork").Event(), multiprocessing.get_context("fork").Event()

    def child() -> None:
        parent_holds.wait(10)
        with lock:  # must wait for the parent, not share its open file and walk in
            child_done.set()

    p = multiprocessing.get_context("fork").Process(target=child)
    p.start()
    with lock:
        parent_holds.set()
        assert not child_done.wait(0.5)
    p.join(10)
    assert p.exitcode == 0 and child_done.is_set()
    lock.close()


def test_the_gate_lets_its_slots_write_at_once_and_no_more() -> None:
    gate, inside, most = WriterGate(slots=2), [0], [0]
    count = threading.Lock()

    def write() -> None:
        with gate:
            with count:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)
            with count:
                inside[0] -= 1

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 2 and inside[0] == 0


def test_a_nested_write_goes_through_a_full_gate() -> None:
    gate, done = WriterGate(slots=1), threading.Event()

    def nested() -> None:
        with gate:
            with gate:  # would wait for itself forever if the gate were not reentrant
                pass
        done.set()

    threading.Thread(target=nested, daemon=True).start()
    assert done.wait(10)
    with gate:  # and the slot came back
        pass


def test_a_full_gate_refuses_after_its_timeout_and_a_failed_writer_gives_its_slot_back() -> None:
    gate, holding, release = WriterGate(slots=1, timeout=0.2), threading.Event(), threading.Event()

    def stuck() -> None:  # a writer waiting on a database that does not answer
        with gate:
            holding.set()
            release.wait(10)

    t = threading.Thread(target=stuck)
    t.start()
    assert holding.wait(5)
    with pytest.raises(DatabaseTimeout):  # answered as 503 database_unavailable, never queued for minutes
        with gate:
            pass
    release.set()
    t.join(5)
    with pytest.raises(RuntimeError), gate:  # a write that fails half-way...
        raise RuntimeError("the database went away")
    with gate:  # ...released its slot
        pass


def test_the_writer_lock_refuses_after_its_timeout_while_another_process_writes(tmp_path: Path) -> None:
    path = str(tmp_path / "motcua.db")
    other = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT, 0o600)  # another process's writer, stopped mid-write
    fcntl.flock(other, fcntl.LOCK_EX)
    lock = WriterLock(path, timeout=0.2)
    try:
        with pytest.raises(DatabaseTimeout):
            with lock:
                pass
        fcntl.flock(other, fcntl.LOCK_UN)
        with lock:  # free again: taken at once, and the thread lock was not left held by the refusal
            assert _held_elsewhere(f"{path}-writer")
    finally:
        os.close(other)
        lock.close()


@pytest.mark.postgres
def test_the_gate_and_the_ping_after_it_share_one_connect_timeout(pg_url: str) -> None:
    # A stalled network while both slots are held by writers that give up just before the gate
    # does: the writer let in at the last moment must not then wait a whole connect timeout more
    # on its pooled connection's ping (4 s on the gate + 4 s of ping would break the 503 in 5 s).
    from urllib.parse import urlsplit

    from motcua.db import PING_FLOOR_S, Database, Timeouts, is_unavailable
    from tests.support.tcp_proxy import TcpProxy

    parts = urlsplit(pg_url)
    with TcpProxy((parts.hostname, parts.port)) as proxy:
        db = Database(parts._replace(netloc=f"{parts.username}@{proxy.host}:{proxy.port}").geturl(),
                      Timeouts(connect=4.0, statement=6.0, lock=3.0))
        try:
            with db.read() as s:  # a pooled connection, pinged at its next checkout
                s.connection().exec_driver_sql("select 1")
            holding, gate = threading.Barrier(3), db._write_lock
            hold_s = 3.6

            def stuck_writer() -> None:
                with gate:
                    holding.wait(5)
                    time.sleep(hold_s)

            writers = [threading.Thread(target=stuck_writer) for _ in range(2)]
            for t in writers:
                t.start()
            holding.wait(5)
            proxy.stall()
            started = time.monotonic()
            with pytest.raises(Exception) as failed:
                with db.write() as s:
                    s.connection().exec_driver_sql("select 1")
            took = time.monotonic() - started
            assert is_unavailable(failed.value), failed.value
            # In at about 3.6 s; the ping then has what is left of the 4 s, at least PING_FLOOR_S.
            assert hold_s - 0.5 < took < 4.0 + PING_FLOOR_S + 1.5, took
            for t in writers:
                t.join(10)
        finally:
            proxy.resume()
            db.dispose()
