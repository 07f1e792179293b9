"""Shared fixtures.

Services this machine runs for real (PostgreSQL, Redis, Chromium) are used for real. When one
is missing the test skips with the reason, except under MOTCUA_REQUIRE_SERVICES=1 (set by
.ci/run), where the skip becomes a failure so CI always runs them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from motcua.app import create_app
from motcua.engine import clock
from motcua.migrate import upgrade
from motcua.models import ApiToken, Counter, Device, Office, Role, User
from motcua.security import hash_password, new_token, token_hash
from motcua.seed import seed

pytest_plugins = ["tests.browser_support", "tests.escpos_sink"]

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "config.toml"
TWO_OFFICES = REPO / "tests" / "data" / "two_offices.toml"
PG_ADMIN_URL = os.environ.get("MOTCUA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("MOTCUA_TEST_REDIS", "redis://127.0.0.1:6379/0")


def required() -> bool:
    return os.environ.get("MOTCUA_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with the reason, or fail when CI requires every service."""
    if required():
        pytest.fail(f"{reason} (MOTCUA_REQUIRE_SERVICES=1: this must run)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the demo's people and devices -----------------------------------------------------


@dataclass
class Staff:
    username: str
    password: str
    token: str
    role: Role

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Demo:
    """An office with a user of each role and a token for each device."""

    office_code: str
    staff: dict[str, Staff] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)  # device name -> token

    def device_headers(self, name: str) -> dict:
        return {"Authorization": f"Bearer {self.devices[name]}"}

    @property
    def kiosk(self) -> dict:
        return self.device_headers(next(n for n in self.devices if n.startswith("Kiosk")))

    def clerk(self, counter: int) -> Staff:
        return self.staff[f"clerk{counter}"]

    @property
    def manager(self) -> Staff:
        return self.staff["manager"]

    @property
    def admin(self) -> Staff:
        return self.staff["admin"]


def populate(db, config) -> dict[str, Demo]:  # noqa: ANN001
    """Seed config offices, then give each a manager, an admin, a clerk per counter and device tokens."""
    demos: dict[str, Demo] = {}
    with db.write() as s:
        offices = seed(s, config)
        for office in offices:
            demo = Demo(office.code)
            people = [("admin", Role.admin, None), ("manager", Role.manager, None)]
            people += [(f"clerk{c.number}", Role.clerk, c) for c in s.scalars(select(Counter).where(Counter.office_id == office.id))]
            for key, role, counter in people:
                username = f"{office.code}-{key}"
                password = f"matkhau-{username}"
                user = User(username=username, full_name=f"{key.title()} {office.code}", role=role, office_id=office.id,
                            counter_id=counter.id if counter else None, password_hash=hash_password(password), created_at=clock.now())
                s.add(user)
                s.flush()
                token = new_token("usr")
                s.add(ApiToken(user_id=user.id, name="test", token_hash=token_hash(token), created_at=clock.now()))
                demo.staff[key] = Staff(username, password, token, role)
            for d in s.scalars(select(Device).where(Device.office_id == office.id)):
                token = new_token("dev")
                d.token_hash = token_hash(token)
                demo.devices[d.name] = token
            demos[office.code] = demo
    return demos


def login(client, staff: Staff) -> str:  # noqa: ANN001
    """Sign in through the real form (CSRF included); returns the CSRF token for API calls."""
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"username": staff.username, "password": staff.password, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)
    # Signing in starts a new session with a new CSRF token.
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# ---- apps ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory):  # noqa: ANN001, ANN201
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
def make_app(tmp_path, sqlite_templates):  # noqa: ANN001, ANN201
    """Build a migrated, seeded app: make_app(config=..., database_url=...) -> (app, demos)."""
    import copy
    import shutil

    apps = []

    def build(config: Path = DEMO_CONFIG, database_url: str | None = None, **kwargs):  # noqa: ANN003, ANN202
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
def app_demo(make_app):  # noqa: ANN001, ANN201
    return make_app()


@pytest.fixture
def app(app_demo):  # noqa: ANN001, ANN201
    return app_demo[0]


@pytest.fixture
def demo(app_demo) -> Demo:  # noqa: ANN001
    return app_demo[1]["demo"]


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


@pytest.fixture
def db(app):  # noqa: ANN001, ANN201
    return app.extensions["motcua"].db


@pytest.fixture
def office(db) -> Office:  # noqa: ANN001
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
    except Exception as exc:  # noqa: BLE001
        skip_or_fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str):  # noqa: ANN201
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
    except Exception as exc:  # noqa: BLE001
        skip_or_fail(f"Redis is not reachable at {REDIS_TEST_URL}: {exc.__class__.__name__}")
    return REDIS_TEST_URL


# ---- a real server in a child process --------------------------------------------------


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    env: dict
    demos: dict[str, Demo]
    log: Path

    @property
    def demo(self) -> Demo:
        return self.demos["demo"]

    def stop(self, sig: int | None = None) -> None:
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def start(self) -> None:
        """(Re)start on the same port and database."""
        self.process = _spawn(self.env, self.log)
        wait_for_http(self.url + "/api/v1/services", self.process, self.log)


def _spawn(env: dict, log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115  the child owns it
    return subprocess.Popen([sys.executable, "-m", "motcua", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer at {url}:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def live_server_factory(tmp_path, sqlite_templates):  # noqa: ANN001, ANN201
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
        server = LiveServer(f"http://127.0.0.1:{port}", _spawn(env, log), env, demos, log)
        servers.append(server)
        wait_for_http(server.url + "/api/v1/services", server.process, log)
        return server

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def live_server(live_server_factory) -> LiveServer:  # noqa: ANN001
    return live_server_factory()
