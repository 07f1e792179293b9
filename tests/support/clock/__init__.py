"""A live server that starts at a chosen moment (see sitecustomize.py beside this file)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).parent


def at(moment: datetime) -> dict[str, str]:
    """extra_env for live_server_factory: the server's clock starts at `moment` (timezone-aware)."""
    return {"MOTCUA_TEST_NOW": moment.isoformat(), "PYTHONPATH": os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p)}
