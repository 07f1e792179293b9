"""Prepared statements (motcua.prepared) against the real SQLite and PostgreSQL: values go in and
come out exactly as SQLAlchemy Core would bind and load them, errors are SQLAlchemy's, listeners
see every statement, and what it cannot run faithfully it refuses at first use."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from motcua.models import UTCDateTime
from motcua.prepared import Prepared


class Colour(enum.Enum):
    red = "red"
    green = "green"


meta = MetaData()
things = Table(
    "things", meta,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("colour", Enum(Colour, native_enum=False), nullable=False),
    Column("day", Date, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("data", JSON),
    Column("flag", Boolean, nullable=False, default=False),
    Column("count", Integer, nullable=False, default=7),
)

INSERT = Prepared(insert(things).returning(things.c.id), keys=("name", "colour", "day", "at", "data"))
BY_NAME = Prepared(select(things).where(things.c.name == bindparam("name")))
BUMP = Prepared(update(things).where(things.c.name == bindparam("name")).values(count=things.c.count + 1).returning(things.c.count))
COUNT = Prepared(select(func.count()).select_from(things))

VN = timezone(timedelta(hours=7))
AT = datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=VN)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    eng = create_engine(url)
    meta.create_all(eng)
    yield eng
    eng.dispose()


def _add(conn, name: str, **extra) -> int:
    return INSERT.scalar(conn, dict(name=name, colour=Colour.green, day=date(2026, 11, 23), at=AT, data={"ưu tiên": [1, None]}) | extra)


def test_values_round_trip_through_the_column_types(engine) -> None:
    with engine.begin() as conn:
        new_id = _add(conn, "một")
        row = BY_NAME.first(conn, {"name": "một"})
        core = conn.execute(select(things).where(things.c.name == "một")).one()
    assert row.id == new_id
    assert tuple(row) == tuple(core)  # what Core itself loads, column for column
    assert row.colour is Colour.green and row.day == date(2026, 11, 23)
    assert row.at == AT and row.at.tzinfo is not None  # stored as UTC, given back aware
    assert row.data == {"ưu tiên": [1, None]}
    assert row.flag is False and row.count == 7  # scalar column defaults, filled in as Core would


def test_updates_return_rows_and_rowcounts(engine) -> None:
    with engine.begin() as conn:
        _add(conn, "hai")
        assert BUMP.scalar(conn, {"name": "hai"}) == 8
        assert BUMP.scalar(conn, {"name": "nobody"}) is None
        assert BUMP.all(conn, {"name": "nobody"}) == []
        plain = Prepared(update(things).where(things.c.name == bindparam("name")).values(flag=True))
        assert plain.run(conn, {"name": "hai"}) == 1
        assert BY_NAME.first(conn, {"name": "hai"}).flag is True


def test_it_runs_in_the_callers_transaction(engine) -> None:
    with engine.connect() as conn:
        with conn.begin() as tx:
            _add(conn, "ba")
            tx.rollback()
        assert COUNT.scalar(conn) == 0


def test_a_broken_constraint_is_sqlalchemys_integrity_error(engine) -> None:
    with engine.connect() as conn:
        with conn.begin():
            _add(conn, "bốn")
        with pytest.raises(IntegrityError), conn.begin():
            _add(conn, "bốn")
        with conn.begin():  # the connection is still good
            assert COUNT.scalar(conn) == 1


def test_listeners_see_each_statement(engine) -> None:
    seen = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, sql, params, ctx, many: seen.append((sql, params)))
    with engine.begin() as conn:
        _add(conn, "năm")
        BY_NAME.first(conn, {"name": "năm"})
    assert [sql for sql, _ in seen[-2:]] == [INSERT._form(engine.dialect).sql, BY_NAME._form(engine.dialect).sql]
    assert "năm" in str(seen[-1][1])


def test_statements_it_cannot_run_faithfully_are_refused(engine) -> None:
    with engine.begin() as conn:
        in_list = Prepared(select(things.c.id).where(things.c.name.in_(["a", "b"])))
        with pytest.raises(ValueError, match="IN-lists"):
            in_list.all(conn)
        stamped = Table("stamped", MetaData(), Column("id", Integer, primary_key=True),
                        Column("made", String(40), default=lambda: "now"))
        with pytest.raises(ValueError, match="not a constant"):
            Prepared(insert(stamped), keys=("id",)).run(conn, {"id": 1})
        touched = Table("touched", MetaData(), Column("id", Integer, primary_key=True),
                        Column("seen", String(40), onupdate="later"))
        with pytest.raises(ValueError, match="onupdate"):
            Prepared(update(touched).values(id=2)).run(conn)
