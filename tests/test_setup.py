"""Configuration, migrations and the command line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select

from motcua.config import ConfigError, load_config
from motcua.db import Database, make_engine
from motcua.migrate import upgrade
from motcua.models import Base, Counter
from motcua.seed import seed
from tests.support.cli import run_cli
from tests.support.env import DEMO_CONFIG, REPO


def test_demo_config_is_valid() -> None:
    config, _ = load_config(DEMO_CONFIG)
    office = config.offices[0]
    assert office.timezone == "Asia/Ho_Chi_Minh" and len(office.fields) == 5 and len(office.counters) == 4


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Saigonn"'), "offices.0.timezone", "múi giờ"),
        (("fields = { HT = 2, CT = 1 }", "fields = { HT = 2, XX = 1 }"), "offices.0", "lĩnh vực 'XX'"),
        (('mon = ["07:30-11:30", "13:30-17:30"]', 'mon = ["11:30-07:30"]'), "offices.0.working_hours", "kết thúc"),
        (("priority_ratio = 2 ", "priority_ratio = 0 "), "offices.0.priority_ratio", ""),
        (("digits = 3", "digits = 3\nunknown_key = 1"), "offices.0.fields.0.unknown_key", ""),
        (('printer = "kiosk-sanh"', 'printer = "khong-co"'), "offices.0", "máy in 'khong-co'"),
        (("fields = { HT = 2, CT = 1 }", 'fields = { HT = 2, CT = 1 }\nhours = ["13:30-11:30"]'), "offices.0.counters.0.hours", "kết thúc"),
        (("fields = { HT = 2, CT = 1 }", 'fields = { HT = 2, CT = 1 }\nhours = { mon = ["07:30-11:30"], moon = [] }'),
         "offices.0.counters.0.hours", "ngày 'moon'"),
        (("fields = { HT = 2, CT = 1 }", 'fields = { HT = 2, CT = 1 }\nhours = "07:30-11:30"'), "offices.0.counters.0.hours", "bảng theo ngày"),
    ],
)
def test_bad_config_names_the_key_and_the_problem(tmp_path: Path, change: tuple[str, str], key: str, words: str) -> None:
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    assert change[0] in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    assert key in str(e.value) and words in str(e.value) and "không hợp lệ" in str(e.value)


def test_counter_hours_are_seeded_per_weekday(tmp_path: Path) -> None:
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    planned = text.replace("fields = { HT = 2, CT = 1 }", 'fields = { HT = 2, CT = 1 }\nhours = ["07:30-11:30", "13:30-15:00"]', 1)
    planned = planned.replace("fields = { DD = 1 }", 'fields = { DD = 1 }\nhours = { tue = ["13:30-17:30"] }', 1)
    path = tmp_path / "config.toml"
    path.write_text(planned, encoding="utf-8")
    config, _ = load_config(path)
    db = Database(f"sqlite:///{tmp_path / 'motcua.db'}")
    try:
        upgrade(db.engine)
        with db.write() as s:
            seed(s, config)
        with db.read() as s:
            hours = {c.number: c.hours for c in s.scalars(select(Counter))}
    finally:
        db.dispose()
    working = {d for d, spans in config.offices[0].working_hours.items() if spans}
    # One list: every day the office works; a table: as written; none: the office's hours.
    assert hours[1] == {d: ["07:30-11:30", "13:30-15:00"] for d in working}
    assert hours[3] == {"tue": ["13:30-17:30"]}
    assert hours[2] is None and hours[4] is None


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Không tìm thấy"):
        load_config(tmp_path / "none.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML"):
        load_config(broken)


def test_environment_overrides(tmp_path: Path, monkeypatch) -> None:
    from motcua.config import effective_settings

    config, _ = load_config(DEMO_CONFIG)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("MOTCUA_PORT", "9001")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    s = effective_settings(config, tmp_path)
    assert s["database_url"] == "postgresql+psycopg://u@h/db" and s["port"] == 9001 and s["redis_url"].endswith("/3")


def _assert_models_match(url: str) -> None:
    engine = make_engine(url) if url.startswith("sqlite") else create_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    _assert_models_match(f"sqlite:///{tmp_path}/m.db")


def test_migrations_match_models_on_postgresql(pg_url: str) -> None:
    _assert_models_match(pg_url)


def test_command_line_from_a_fresh_instance(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    demo = run_cli(tmp_path, "demo")
    assert demo.returncode == 0 and "DEMO" in demo.stdout and "/kiosk/?token=dev_" in demo.stdout
    assert run_cli(tmp_path, "demo").stdout == demo.stdout  # stable across restarts
    # The office line names the code once, and phones are told how to reach the server.
    assert "(demo) (demo)" not in demo.stdout and "Minh Khai (demo) ==" in demo.stdout
    assert "public_url" in demo.stdout and 'host = "0.0.0.0"' in demo.stdout
    secret = tmp_path / "inst" / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600

    added = run_cli(tmp_path, "users", "add", "lan", "--role", "clerk", "--counter", "2", "--password-stdin", stdin="mat-khau-dai\n")
    assert added.returncode == 0, added.stderr
    again = run_cli(tmp_path, "users", "add", "lan", "--role", "clerk", "--password-stdin", stdin="mat-khau-dai\n")
    assert again.returncode != 0 and "lan" in again.stderr
    short = run_cli(tmp_path, "users", "add", "hoa", "--role", "clerk", "--password-stdin", stdin="ngan\n")
    assert short.returncode != 0 and "8" in short.stderr

    token = run_cli(tmp_path, "tokens", "issue", "lan").stdout.strip().splitlines()[-1]
    device = run_cli(tmp_path, "devices", "add", "Kiosk 2", "--kind", "kiosk", "--printer", "kiosk-sanh").stdout.strip().splitlines()[-1]
    assert token.startswith("usr_") and device.startswith("dev_")

    from motcua.app import create_app

    app = create_app(DEMO_CONFIG, instance=tmp_path / "inst", plugins=False)
    c = app.test_client()
    t = c.post("/api/v1/tickets", json={"service": "CT"}, headers={"Authorization": f"Bearer {device}"})
    assert t.status_code == 201 and t.get_json()["print_job"] is not None
    r = c.post("/api/v1/counters/2/next", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json()["ticket"]["code"] == "B001"
    app.extensions["motcua"].db.dispose()


def test_bad_config_stops_the_server_with_the_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace('prefix = "A"', 'prefix = "a1"'), encoding="utf-8")
    env = {**os.environ, "MOTCUA_CONFIG": str(bad), "MOTCUA_INSTANCE": str(tmp_path / "inst")}
    r = subprocess.run([sys.executable, "-m", "motcua", "serve"], env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 2 and "offices.0.fields.0.prefix" in r.stderr
