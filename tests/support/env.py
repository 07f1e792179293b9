"""Where things are and which services this machine runs (PostgreSQL, Redis): a test that
needs a missing one skips with the reason, or fails under MOTCUA_REQUIRE_SERVICES=1 (CI)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "config.toml"
TWO_OFFICES = REPO / "tests" / "data" / "two_offices.toml"
OFFICE12 = REPO / "tests" / "data" / "office12.toml"  # 12 fields with long names, 12 counters
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
