"""The WAL is copied back into the database file by the Checkpointer's thread, not only by the
commit that takes the WAL past 1000 pages (motcua.db.Checkpointer)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from motcua.db import Database


def rows_in_the_database_file(db_file: Path, tmp_path: Path) -> int:
    """Rows of `t` that the database file holds by itself, WAL left aside."""
    alone = tmp_path / "alone.db"
    shutil.copy(db_file, alone)
    with sqlite3.connect(alone) as conn:
        try:
            return conn.execute("SELECT count(*) FROM t").fetchone()[0]
        except sqlite3.OperationalError:  # not even the table yet
            return 0


def native_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_writes_reach_the_database_file_within_a_moment(tmp_path: Path) -> None:
    db_file = tmp_path / "c.db"
    db = Database(f"sqlite:///{db_file}")
    threads_before = native_threads()
    try:
        with db.write() as s:
            s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        for i in range(20):  # a few pages of WAL: far from the 1000 at which a commit checkpoints
            with db.write() as s:
                s.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": f"row {i}"})
        assert (db_file.parent / "c.db-wal").stat().st_size > 0
        deadline = time.monotonic() + 10
        while rows_in_the_database_file(db_file, tmp_path) < 20:
            assert time.monotonic() < deadline, "the WAL was never copied back"
            time.sleep(0.05)
    finally:
        db.dispose()
    deadline = time.monotonic() + 10
    while native_threads() > threads_before:  # dispose ends the thread
        assert time.monotonic() < deadline, "the checkpoint thread outlived its database"
        time.sleep(0.05)
