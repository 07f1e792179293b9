"""Shared fixtures.

Services this machine runs for real (PostgreSQL, Redis, Chromium) are used for real. When one
is missing the test skips with the reason, except under MOTCUA_REQUIRE_SERVICES=1 (set by
.ci/run), where the skip becomes a failure so CI always runs them.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from motcua.app import create_app
from motcua.migrate import upgrade
from motcua.models import Office
from tests.support.demo import Demo, populate
from tests.support.env import DEMO_CONFIG, PG_ADMIN_URL, REDIS_TEST_URL, free_port, skip_or_fail
from tests.support.live import LiveServer, spawn, wait_for_http

pytest_plugins = ["tests.support.browser", "tests.support.escpos_sink"]


# ---- apps ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory):
    """Migrated, populated SQLite files per config, built once and copied per test
    (migrations and password hashing would otherwise dominate the suite's time)."""
    cache: dict[Path, tuple[Path, Path, dict[str, Demo]]] = {}

    def get(config: Path) -> tuple[Path, Path, dict[str, Demo]]:
        if config not in cache:
            instance = tmp_path_factory.mktemp("template")
            app = create_app(config, database_url=f"sqlite:///{instance}/motcua.db", instance=instance, plugins=False)
            st = app.extensions["motcua"]
            upgrade(st.db.engine)
            demos = populate(st.db, st.config)
            with st.db.engine.connect() as c:
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            st.db.dispose()
            cache[config] = (instance / "motcua.db", instance / "secret_key", demos)
        return cache[config]

    return get


@pytest.fixture
def make_app(tmp_path, sqlite_templates):
    """Build a migrated, seeded app: make_app(config=..., database_url=...) -> (app, demos)."""
    import copy
    import shutil

    apps = []

    def build(config: Path = DEMO_CONFIG, database_url: str | None = None, **kwargs):
        instance = tmp_path / f"instance-{len(apps)}"
        instance.mkdir()
        if database_url is None:
            db_file, secret, demos = sqlite_templates(Path(config))
            shutil.copy(db_file, instance / "motcua.db")
            shutil.copy(secret, instance / "secret_key")
            app = create_app(config, database_url=f"sqlite:///{instance}/motcua.db", instance=instance, testing=True, **kwargs)
            demos = copy.deepcopy(demos)
        else:
            app = create_app(config, database_url=database_url, instance=instance, testing=True, **kwargs)
            st = app.extensions["motcua"]
            upgrade(st.db.engine)
            demos = populate(st.db, st.config)
        apps.append(app)
        return app, demos

    yield build
    for app in apps:
        app.extensions["motcua"].db.dispose()


@pytest.fixture
def app_demo(make_app):
    return make_app()


@pytest.fixture
def app(app_demo):
    return app_demo[0]


@pytest.fixture
def demo(app_demo) -> Demo:
    return app_demo[1]["demo"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["motcua"].db


@pytest.fixture
def office(db) -> Office:
    with db.read() as s:
        return s.scalar(select(Office).where(Office.code == "demo"))


# ---- PostgreSQL and Redis --------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> str:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"motcua_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_server.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as c:
        c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_TEST_URL}: {exc.__class__.__name__}")
    return REDIS_TEST_URL


# ---- a real server in a child process --------------------------------------------------


@pytest.fixture
def live_server_factory(tmp_path, sqlite_templates):
    """Start `motcua serve` in a child process: factory(config=..., database_url=..., extra_env=...)."""
    import copy
    import shutil

    servers: list[LiveServer] = []

    def start(config: Path = DEMO_CONFIG, database_url: str | None = None, extra_env: dict | None = None, populate_db: bool = True) -> LiveServer:
        instance = tmp_path / f"live-{len(servers)}"
        instance.mkdir()
        url_db = database_url or f"sqlite:///{instance}/motcua.db"
        port = free_port()
        env = {**os.environ, "MOTCUA_CONFIG": str(config), "MOTCUA_INSTANCE": str(instance), "DATABASE_URL": url_db,
               "MOTCUA_HOST": "127.0.0.1", "MOTCUA_PORT": str(port), "PYTHONUNBUFFERED": "1",
               # The day-end job closes counters outside working hours: tests/test_dayend.py drives it
               # directly, other tests must not depend on the hour CI happens to run at.
               "MOTCUA_DAYEND": "off", **(extra_env or {})}
        demos: dict[str, Demo] = {}
        if populate_db and database_url is None:
            db_file, secret, demos = sqlite_templates(Path(config))
            shutil.copy(db_file, instance / "motcua.db")
            shutil.copy(secret, instance / "secret_key")
            demos = copy.deepcopy(demos)
        elif populate_db:
            app = create_app(config, database_url=url_db, instance=instance, plugins=False)
            upgrade(app.extensions["motcua"].db.engine)
            demos = populate(app.extensions["motcua"].db, app.extensions["motcua"].config)
            app.extensions["motcua"].db.dispose()
        log = instance / "server.log"
        server = LiveServer(f"http://127.0.0.1:{port}", spawn(env, log), env, demos, log)
        servers.append(server)
        wait_for_http(server.url + "/api/v1/services", server.process, log)
        return server

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def live_server(live_server_factory) -> LiveServer:
    return live_server_factory()
