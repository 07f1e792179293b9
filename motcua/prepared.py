"""Hot statements, compiled once per dialect and run straight on the DBAPI cursor.

SQLAlchemy Core spends an order of magnitude more CPU per executed statement than the cursor
itself (execution context, result object, event dispatch; docs/benchmarks.md); issuing a ticket
and calling a citizen send a dozen statements each, so that machinery cost more than the
database. A `Prepared` statement keeps everything else SQLAlchemy's: the SQL is
the statement compiled for the connection's dialect, parameters go through the column types'
own bind processors (dates, JSON, enums, UTC) and results through their result processors, and
`before_cursor_execute` listeners (SQL logging, the query-plan test) still see each statement.
It runs on the connection of the caller's transaction, so it commits and rolls back with it.

Only plain statements qualify: named `bindparam`s or insert columns listed in `keys`, scalar
column defaults, no IN-lists. Anything else is refused when the statement is first compiled.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

_REQUIRED = object()


class Prepared:
    """`Prepared(stmt)`; then `.first(conn, params)`, `.scalar(...)`, `.all(...)` or `.run(...)`."""

    __slots__ = ("stmt", "keys", "_forms")

    def __init__(self, stmt: ClauseElement, *, keys: tuple[str, ...] | None = None) -> None:
        self.stmt = stmt
        self.keys = list(keys) if keys else None  # an INSERT's columns, given by every execution
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = _Form(self.stmt, self.keys, dialect)
        return form

    def all(self, conn: Connection, params: dict[str, Any] | None = None) -> list:
        form = self._form(conn.dialect)
        cursor = form.execute(conn, params or {})
        return form.rows(cursor) if form.row is not None else []

    def first(self, conn: Connection, params: dict[str, Any] | None = None):
        rows = self.all(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: dict[str, Any] | None = None) -> Any:
        rows = self.all(conn, params)
        return rows[0][0] if rows else None

    def run(self, conn: Connection, params: dict[str, Any] | None = None) -> int:
        """Execute a statement without rows; returns the number of rows it changed."""
        return self._form(conn.dialect).execute(conn, params or {}).rowcount


class _Form:
    """One statement as one dialect runs it."""

    def __init__(self, stmt: ClauseElement, keys: list[str] | None, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=keys)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError(f"not a plain statement (IN-lists, literal binds): {compiled.string}")
        defaults = {}
        for col in compiled.insert_prefetch:
            if col.default is None or not col.default.is_scalar:
                raise ValueError(f"{col}: give it in every execution (its default is not a constant)")
            defaults[col.key] = col.default.arg
        if compiled.update_prefetch:
            raise ValueError(f"onupdate defaults are not supported: {compiled.string}")
        self.sql = compiled.string
        escaped = compiled.escaped_bind_names or {}
        self.binds = []  # (name the driver sees, name the caller gives, fixed value, bind processor)
        for bind, name in compiled.bind_names.items():
            fixed = defaults.get(bind.key, _REQUIRED if bind.required else bind.effective_value)
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self.binds.append((escaped.get(name, name), bind.key, fixed, proc))
        self.order = list(compiled.positiontup) if compiled.positional else None
        self.columns = list(getattr(stmt, "exported_columns", ()) or ())
        self.dialect = dialect
        self.row = namedtuple("Row", [c.key for c in self.columns], rename=True) if self.columns else None
        self.convert = None  # set from the first cursor's description (PostgreSQL's type codes)

    def rows(self, cursor) -> list:
        if self.convert is None:
            codes = [d[1] for d in cursor.description]
            procs = [c.type.dialect_impl(self.dialect).result_processor(self.dialect, code) for c, code in zip(self.columns, codes, strict=True)]
            pairs = [(i, p) for i, p in enumerate(procs) if p is not None]
            self.convert = (lambda r: r) if not pairs else (lambda r: _converted(r, pairs))
        row, convert = self.row, self.convert
        return [row._make(convert(r)) for r in cursor.fetchall()]

    def execute(self, conn: Connection, params: dict[str, Any]):
        values = {}
        for name, key, fixed, proc in self.binds:
            value = params[key] if fixed is _REQUIRED or key in params else fixed
            values[name] = proc(value) if proc is not None else value
        args = tuple(values[n] for n in self.order) if self.order is not None else values
        listeners = conn.dispatch.before_cursor_execute
        if listeners:
            for fn in listeners:
                fn(conn, None, self.sql, args, None, False)
        raw = conn.connection.driver_connection
        try:
            return raw.execute(self.sql, args)
        except conn.dialect.loaded_dbapi.Error as exc:
            # As Core would: SQLAlchemy's exception types (the API maps them to answers), and a
            # connection that lost its server leaves the pool.
            lost = conn.dialect.is_disconnect(exc, raw, None)
            if lost:
                conn.invalidate(exc)
            raise DBAPIError.instance(self.sql, args, exc, conn.dialect.loaded_dbapi.Error, connection_invalidated=lost,
                                      dialect=conn.dialect) from exc


def _converted(row: tuple, pairs: list) -> list:
    out = list(row)
    for i, proc in pairs:
        out[i] = proc(out[i])
    return out
