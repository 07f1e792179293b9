"""The `motcua` command line run as an operator runs it, on a fresh instance folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.env import DEMO_CONFIG, REPO


def run_cli(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MOTCUA_CONFIG": str(DEMO_CONFIG), "MOTCUA_INSTANCE": str(tmp_path / "inst")}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "motcua", *args], env=env, input=stdin, capture_output=True, text=True, cwd=REPO, timeout=120)
