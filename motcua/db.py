"""Database engine and sessions.

SQLite runs in WAL mode; every write transaction starts with BEGIN IMMEDIATE so that writers
queue on the lock up front instead of failing half-way with "database is locked" (pysqlite's own
transaction handling is switched off so SQLAlchemy's begin event decides). Reads use a deferred
BEGIN and never block writers. PostgreSQL uses the same code through psycopg 3.

`Database.write()` yields a session, commits, and only then publishes the domain events the
engine queued on it, so nothing is announced or printed for a transaction that rolled back.
"""

from __future__ import annotations

import _thread
import fcntl
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from motcua.prepared import Prepared

Subscriber = Callable[[list[Any]], None]


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        _BEGIN[conn.get_execution_options().get("sqlite_begin", "DEFERRED")].run(conn)


# Every transaction starts with one of these: prepared, they skip Core's per-statement machinery.
_BEGIN = {mode: Prepared(text(f"BEGIN {mode}")) for mode in ("DEFERRED", "IMMEDIATE")}


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
            raise ValueError("use a file database: WAL and several connections need one")
        engine = create_engine(url, pool_size=20, max_overflow=40, **kwargs)
        _sqlite_setup(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if kwargs.pop("nullpool", False):
        kwargs["poolclass"] = NullPool
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


class WriterLock:
    """SQLite lets one writer in at a time and makes the others sleep in growing back-off steps
    (1, 2, 5, 10 … ms), which starves some of them: a p99 of seconds at 10 clients. Writers queue
    here instead: on a lock among this process's threads, then on an flock of a file beside the
    database among processes (`--workers 2`, a CLI command), so a waiting writer wakes the moment
    the last one commits. The kernel drops the flock of a process that dies. BEGIN IMMEDIATE and
    the busy timeout still guard writers that do not take it (migrations, other tools).
    Reentrant: a write inside a write of the same thread goes straight through."""

    def __init__(self, database_path: str | None) -> None:
        self._threads = threading.RLock()
        self._path = f"{database_path}-writer" if database_path else None
        self._fd: int | None = None
        self._pid = 0  # a forked worker opens its own file: an inherited one would share the lock
        self._depth = 0

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._depth == 0 and self._path is not None:
                if self._fd is None or self._pid != os.getpid():
                    self._fd, self._pid = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600), os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class WriterGate:
    """PostgreSQL: at most `slots` write transactions of this process at a time; the others wait
    here, before taking a connection. Every ticket of a field takes that field's number-counter
    row lock, and under gevent a transaction holding it waits for the hub between statements, so
    with dozens of writers in flight the holder's statements queued behind everyone else's work
    and the others piled up on the row lock; two slots keep the holder moving (the figures before
    and after are in docs/benchmarks.md). Reads never wait here. Reentrant, like WriterLock: a write inside a write goes through."""

    SLOTS = 2

    def __init__(self, slots: int = SLOTS) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._depth = threading.local()  # per thread, or per greenlet under gevent

    def __enter__(self) -> None:
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            self._slots.acquire()
        self._depth.n = depth + 1

    def __exit__(self, *exc: object) -> None:
        self._depth.n -= 1
        if self._depth.n == 0:
            self._slots.release()


def _native_thread_and_sleep() -> tuple[Callable[..., Any], Callable[[float], None]]:
    """The interpreter's own thread start and sleep, also in a gevent-patched process: work run
    there must not share the hub's thread."""
    from motcua.production import gevent_patched

    if not gevent_patched():
        return _thread.start_new_thread, time.sleep
    from gevent import monkey

    return monkey.get_original("_thread", "start_new_thread"), monkey.get_original("time", "sleep")


class Checkpointer:
    """Copies the SQLite WAL back into the database on a thread of its own, ten times a second
    while writes come in. Left alone, SQLite does all of it in the commit that takes the WAL past
    1000 pages: copying 4 MB and two fsyncs inside one request, during which a gevent process
    serves no one, several times a second under a morning's load. pysqlite releases the GIL
    while SQLite works, so here the copying runs on another core. PASSIVE never waits for or
    blocks a reader or a writer. That commit still checkpoints, so the WAL restarts from its
    start and stays small, but it finds only the last tenth of a second left to copy.
    Started by the first write of each process (a forked worker starts its own)."""

    INTERVAL_S = 0.1

    def __init__(self, database_path: str) -> None:
        self._path = database_path
        self._writes = 0
        self._pid = 0
        self._stopped = False

    def wrote(self) -> None:
        self._writes += 1
        if self._pid != os.getpid() and not self._stopped:
            self._pid = os.getpid()
            start, _ = _native_thread_and_sleep()
            start(self._run, ())

    def stop(self) -> None:
        self._stopped = True

    def _run(self) -> None:
        _, sleep = _native_thread_and_sleep()
        pid, copied = os.getpid(), 0
        try:  # mode=rw: never create a database that is gone (a test's, deleted after dispose)
            conn = sqlite3.connect(f"file:{quote(self._path)}?mode=rw", uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            self._pid = 0  # the next write tries again
            return
        try:
            while not self._stopped and self._pid == pid:
                sleep(self.INTERVAL_S)
                if self._writes != copied:
                    copied = self._writes
                    try:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    except sqlite3.Error:
                        pass  # another process's checkpoint, a full disk: the commits' own checkpoint still runs
        finally:
            conn.close()


class Database:
    """One per app: engines, session factories and the after-commit event subscribers."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        # Every process of one deployment has the same database, and no two deployments do:
        # what they share in Redis (rate-limit counters, the Socket.IO channel) is keyed by this.
        self.deployment = hashlib.sha256(url.encode()).hexdigest()[:12]
        self.engine = make_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(writer, expire_on_commit=False)
        self.subscribers: list[Subscriber] = []
        self._write_lock = WriterLock(self.engine.url.database) if self.is_sqlite else WriterGate()
        self._checkpointer = Checkpointer(self.engine.url.database) if self.is_sqlite else None

    def subscribe(self, fn: Subscriber) -> None:
        self.subscribers.append(fn)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; closing it ends the transaction and keeps loaded objects usable."""
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction; domain events queued in session.info['events'] go out after commit."""
        with self._write_lock, self._write() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            events = session.info.pop("events", [])
        if self._checkpointer is not None:
            self._checkpointer.wrote()
        if events:
            self.publish(events)

    def publish(self, events: list[Any]) -> None:
        for fn in self.subscribers:
            fn(events)

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()
        if isinstance(self._write_lock, WriterLock):
            self._write_lock.close()


def is_unavailable(exc: BaseException) -> bool:
    """A database that cannot be reached (server down, restarting), as opposed to a bug."""
    return isinstance(exc, OperationalError) and not _is_lock_timeout(exc)


def _is_lock_timeout(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig)
