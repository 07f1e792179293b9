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
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from motcua.prepared import Prepared

Subscriber = Callable[[list[Any]], None]


@dataclass(frozen=True)
class Timeouts:
    """How long any wait on the database may last, in seconds (config.toml `[server]`
    database_*_timeout, or MOTCUA_DB_*_TIMEOUT). A database that does not answer in time is
    treated as unavailable (503), never waited on: see `DatabaseTimeout`.

    connect: opening a connection, with the ping of a pooled one before it; the write gate.
    (A free pooled connection is waited for connect + statement: the requests holding them are
    bounded by these same timeouts, so that wait is a queue, not an outage.) statement: one statement's answer
    (the server cancels it then too; the client stops waiting, so a stalled network is noticed
    as well). lock: waiting for a row lock on PostgreSQL, for the write lock on SQLite."""

    connect: float = 3.0
    statement: float = 5.0
    lock: float = 3.0


class DatabaseTimeout(OperationalError):
    """A wait on the database ran out of time (a stalled network, a hung server, writers stuck
    ahead of this one). An OperationalError, so every page and endpoint answers it as the
    database being unavailable: 503 `database_unavailable`."""

    def __init__(self, what: str) -> None:
        super().__init__(what, None, TimeoutError(what))


class DatabaseUnwritable(OperationalError):
    """The database's files cannot be written (a read-only file or folder, a full disk): an
    outage for the caller (503 with a message), never a traceback."""

    def __init__(self, exc: OSError) -> None:
        super().__init__("the database files cannot be written", None, exc)


class _Waits(threading.local):
    """Per thread (greenlet, under gevent): the limit of the wait in progress when it is not
    a statement's (the ping of a pooled connection is bounded by the connect timeout), and
    whether that ping went unanswered, so the reconnect that SQLAlchemy tries next is not made
    to wait on the same stalled network."""

    limit: float | None = None
    ping_unanswered = False
    # Set by the write gate: the moment its connect timeout, spent partly waiting there, runs out.
    # The ping that follows gets what is left (PING_FLOOR_S at least), so a writer that got in just
    # before giving up does not wait a whole connect timeout more on a stalled network.
    connect_deadline: float | None = None


PING_FLOOR_S = 1.0


_waits = _Waits()


def _sqlite_setup(engine: Engine, timeouts: Timeouts) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(timeouts.lock * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        _BEGIN[conn.get_execution_options().get("sqlite_begin", "DEFERRED")].run(conn)


# Every transaction starts with one of these: prepared, they skip Core's per-statement machinery.
_BEGIN = {mode: Prepared(text(f"BEGIN {mode}")) for mode in ("DEFERRED", "IMMEDIATE")}


def make_engine(url: str, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    timeouts = timeouts or Timeouts()
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": timeouts.lock})
        if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
            raise ValueError("use a file database: WAL and several connections need one")
        engine = create_engine(url, pool_size=20, max_overflow=40, pool_timeout=timeouts.lock + timeouts.connect, **kwargs)
        _sqlite_setup(engine, timeouts)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", _pg_connect_args(timeouts))
    if kwargs.pop("nullpool", False):
        kwargs["poolclass"] = NullPool
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        # Waiting for a pooled connection is queueing behind requests, each bounded by its own
        # timeouts (a thousand displays reconnecting at once queue here for seconds): long
        # enough for one holder's full attempt and a connect of its own, and no longer.
        kwargs.setdefault("pool_timeout", timeouts.statement + timeouts.connect)
    engine = create_engine(url, **kwargs)
    if engine.dialect.driver == "psycopg":
        _pg_deadlines(engine, timeouts)
    return engine


def _pg_connect_args(timeouts: Timeouts) -> dict[str, Any]:
    """The server cancels a statement or a lock wait that runs too long; the kernel drops a
    connection whose packets go unacknowledged (tcp_user_timeout) or whose idle peer is gone
    (keepalives), so a pooled connection to a vanished server does not linger."""
    statement_ms, lock_ms = int(timeouts.statement * 1000), int(timeouts.lock * 1000)
    return {
        "connect_timeout": max(2, math.ceil(timeouts.connect)),  # libpq's unit is whole seconds, 2 at least
        "options": f"-c statement_timeout={statement_ms} -c lock_timeout={lock_ms}",
        "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
        "tcp_user_timeout": statement_ms,
    }


def _pg_deadlines(engine: Engine, timeouts: Timeouts) -> None:
    """Connections that stop waiting for an answer after the statement timeout. The server's
    statement_timeout cannot help when the network between stalls (packets held, nothing
    reset): without this, a request waited for the kernel to give up on the socket, minutes.
    The ping of a pooled connection at checkout waits the connect timeout at most."""
    connection_class = _deadline_connection_class(timeouts.statement)
    dialect = engine.dialect
    ping = dialect.do_ping

    def bounded_ping(dbapi_connection):
        limit = timeouts.connect
        if _waits.connect_deadline is not None:
            limit = min(limit, max(_waits.connect_deadline - time.monotonic(), PING_FLOOR_S))
        _waits.limit, _waits.ping_unanswered, _waits.connect_deadline = limit, False, None
        try:
            return ping(dbapi_connection)
        finally:
            _waits.limit = None

    dialect.do_ping = bounded_ping  # type: ignore[method-assign]  (this engine's dialect only)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        if _waits.ping_unanswered:  # the pooled connection's ping just timed out: same network, same fate
            _waits.ping_unanswered = False
            raise DatabaseTimeout("the database did not answer within the connect timeout")
        return connection_class.connect(*cargs, **cparams)


def _deadline_connection_class(statement_s: float) -> type:
    import psycopg
    from psycopg import errors

    class DeadlineConnection(psycopg.Connection):
        def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
            limit = (_waits.limit or statement_s) if timeout is None else timeout
            try:
                return super().wait(gen, interval=interval, timeout=limit)
            except errors._WaitTimeout:
                if _waits.limit is not None:
                    _waits.ping_unanswered = True
                # The connection is mid-statement with no answer: unusable. Closing it marks
                # it broken, so SQLAlchemy drops it and every connection pooled before it.
                self.pgconn.finish()
                raise psycopg.OperationalError(f"the database did not answer within {limit:.1f} s") from None

    return DeadlineConnection


class WriterLock:
    """SQLite lets one writer in at a time and makes the others sleep in growing back-off steps
    (1, 2, 5, 10 … ms), which starves some of them: a p99 of seconds at 10 clients. Writers queue
    here instead: on a lock among this process's threads, then on an flock of a file beside the
    database among processes (`--workers 2`, a CLI command), so a waiting writer wakes the moment
    the last one commits. The kernel drops the flock of a process that dies. BEGIN IMMEDIATE and
    the busy timeout still guard writers that do not take it (migrations, other tools).
    Reentrant: a write inside a write of the same thread goes straight through."""

    def __init__(self, database_path: str | None, timeout: float | None = None) -> None:
        self._threads = threading.RLock()
        self._path = f"{database_path}-writer" if database_path else None
        self._fd: int | None = None
        self._pid = 0  # a forked worker opens its own file: an inherited one would share the lock
        self._depth = 0
        self.timeout = timeout  # a writer stuck ahead (a stopped process) gives a 503, not a queue

    def __enter__(self) -> None:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=-1 if self.timeout is None else self.timeout):
            raise DatabaseTimeout("the writers ahead did not finish within the lock timeout")
        try:
            if self._depth == 0 and self._path is not None:
                if self._fd is None or self._pid != os.getpid():
                    self._fd, self._pid = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600), os.getpid()
                self._flock(deadline)
        except OSError as exc:  # the lock file cannot be made (a read-only folder): the database is unusable
            self._threads.release()
            raise DatabaseUnwritable(exc) from exc
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1

    def _flock(self, deadline: float | None) -> None:
        """The flock, waited on for the lock timeout at most: blocking when it is free or no
        timeout is set, else polled every millisecond (the holder commits in milliseconds)."""
        if deadline is None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            return
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseTimeout("another process held the write lock past the lock timeout") from None
                time.sleep(0.001)

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

    def __init__(self, slots: int = SLOTS, timeout: float | None = None) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._depth = threading.local()  # per thread, or per greenlet under gevent
        self.timeout = timeout  # writers stuck ahead (a stalled database) give a 503, not a queue

    def __enter__(self) -> None:
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            # The wait here and the connection's ping after it share one connect timeout (_Waits).
            _waits.connect_deadline = None if self.timeout is None else time.monotonic() + self.timeout
            if not self._slots.acquire(timeout=self.timeout):
                _waits.connect_deadline = None
                raise DatabaseTimeout("the writers ahead did not finish within the lock timeout")
        self._depth.n = depth + 1

    def __exit__(self, *exc: object) -> None:
        self._depth.n -= 1
        if self._depth.n == 0:
            _waits.connect_deadline = None
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
        self._files = SqliteFiles(database_path)
        self._writes = 0
        self._pid = 0
        self._stopped = False
        self._running = False

    def wrote(self) -> None:
        self._writes += 1
        if self._pid != os.getpid() and not self._stopped:
            self._pid = os.getpid()
            self._running = True
            start, _ = _native_thread_and_sleep()
            start(self._run, ())

    def stop(self, wait_s: float = 1.0) -> None:
        """Stop, and wait (briefly) for the thread to close its connection: the last connection
        to close checkpoints and removes the WAL, so after dispose() the database file holds all."""
        self._stopped = True
        _, sleep = _native_thread_and_sleep()
        deadline = time.monotonic() + wait_s
        while self._running and time.monotonic() < deadline:
            sleep(0.01)

    def _run(self) -> None:
        _, sleep = _native_thread_and_sleep()
        pid, copied = os.getpid(), 0
        try:  # mode=rw: never create a database that is gone (a test's, deleted after dispose)
            conn = sqlite3.connect(f"file:{quote(self._path)}?mode=rw", uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            self._pid = 0  # the next write tries again
            self._running = False
            return
        try:
            while not self._stopped and self._pid == pid:
                sleep(self.INTERVAL_S)
                if self._writes != copied:
                    copied = self._writes
                    try:
                        self._files.check()  # an unwritable -shm would end the process (SIGBUS)
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    except (sqlite3.Error, DatabaseUnwritable):
                        pass  # another process's checkpoint, a full disk: the commits' own checkpoint still runs
        finally:
            conn.close()
            self._running = False


class SqliteFiles:
    """SQLite maps the -shm file into memory and every reader and writer stores into it: once
    that file cannot be written (made immutable, its file system turned read-only) the store
    faults and the kernel ends the process with SIGBUS, which no handler can turn into an
    answer. So every session first asks the kernel whether the database's files can still be
    written (a few access() calls, microseconds) and answers 503 when they cannot."""

    def __init__(self, database_path: str) -> None:
        self.paths = [database_path, f"{database_path}-wal", f"{database_path}-shm"]
        self.folder = os.path.dirname(os.path.abspath(database_path))

    def check(self) -> None:
        missing = False
        for path in self.paths:
            if not os.access(path, os.W_OK):
                # Asked again: another connection may have just removed the -wal/-shm (access()
                # failed: missing) and the next one created it again before exists() looked.
                if os.path.exists(path) and not os.access(path, os.W_OK):
                    raise DatabaseUnwritable(PermissionError(f"cannot write {path}"))
                missing = True
        if missing and not os.access(self.folder, os.W_OK):  # SQLite creates the -wal and -shm here
            raise DatabaseUnwritable(PermissionError(f"cannot write in {self.folder}"))


class Database:
    """One per app: engines, session factories and the after-commit event subscribers."""

    def __init__(self, url: str, timeouts: Timeouts | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.timeouts = timeouts = timeouts or Timeouts()
        # Every process of one deployment has the same database, and no two deployments do:
        # what they share in Redis (rate-limit counters, the Socket.IO channel) is keyed by this.
        self.deployment = hashlib.sha256(url.encode()).hexdigest()[:12]
        self.engine = make_engine(url, timeouts, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(writer, expire_on_commit=False)
        self.subscribers: list[Subscriber] = []
        self.disposed = False  # the app is done with it: its background loops end (realtime.Presence)
        self._write_lock = WriterLock(self.engine.url.database, timeouts.lock) if self.is_sqlite else WriterGate(timeout=timeouts.connect)
        self._checkpointer = Checkpointer(self.engine.url.database) if self.is_sqlite else None
        self._files = SqliteFiles(self.engine.url.database) if self.is_sqlite else None

    def subscribe(self, fn: Subscriber) -> None:
        self.subscribers.append(fn)

    @contextmanager
    def _bounded(self) -> Iterator[None]:
        """A pool with no free connection within its timeout is an outage too; and SQLite's
        files are checked before SQLite touches them (`SqliteFiles`)."""
        if self._files is not None:
            self._files.check()
        try:
            yield
        except PoolTimeout as exc:
            raise DatabaseTimeout("no free database connection within the pool timeout") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; closing it ends the transaction and keeps loaded objects usable."""
        with self._bounded(), self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction; domain events queued in session.info['events'] go out after commit."""
        with self._bounded(), self._write_lock, self._write() as session:
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
        self.disposed = True
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
