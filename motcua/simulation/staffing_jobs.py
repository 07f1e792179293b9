"""Staffing advice takes minutes on a busy office's month, so a page never computes it: it reads
the day's result from the instance folder, or starts `motcua staffing --store` in a process of
its own (a CPU-bound thread would stall a gevent worker) and shows "đang tính" meanwhile.

One file per (office, weeks, target, business day): `instance/staffing/<key>.json`. The process
that computes holds an exclusive flock on `<key>.lock`, so a second request (in any worker)
sees the job running instead of starting another; a job that died leaves no lock held and its
`<key>.err` tells the page why, and the next request starts it again."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

FOLDER = "staffing"
KEEP_DAYS = 7
STARTING_S = 30  # a job's process takes its lock within this long of being started
MAX_RUNNING = 2  # jobs at once per instance: a page never starts a third (the machine serves citizens first)


def key(office: str, weeks: int, target: float, day: date) -> str:
    return f"{office}-w{weeks}-t{target:g}-{day.isoformat()}"


def _folder(instance: Path) -> Path:
    path = Path(instance) / FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def load(instance: Path, k: str) -> dict[str, Any] | None:
    try:
        return json.loads((_folder(instance) / f"{k}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def failure(instance: Path, k: str) -> str | None:
    try:
        return (_folder(instance) / f"{k}.err").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def store(instance: Path, k: str, result: dict[str, Any]) -> None:
    folder = _folder(instance)
    tmp = folder / f"{k}.json.tmp"
    tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / f"{k}.json")
    (folder / f"{k}.err").unlink(missing_ok=True)
    _prune(folder, k)


def store_failure(instance: Path, k: str, message: str) -> None:
    (_folder(instance) / f"{k}.err").write_text(message, encoding="utf-8")


def _prune(folder: Path, k: str) -> None:
    """Results of earlier days are kept a week, then removed."""
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP_DAYS * 8:]:
        if old.stem != k:
            for ext in (".json", ".started", ".lock", ".err"):
                old.with_suffix(ext).unlink(missing_ok=True)


@contextmanager
def holding(instance: Path, k: str) -> Iterator[bool]:
    """Hold the job's lock while computing; yields False when another process holds it."""
    with open(_folder(instance) / f"{k}.lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def running(instance: Path, k: str) -> bool:
    """The job holds its lock, or was started so lately that it may not hold it yet."""
    with holding(instance, k) as free:
        if not free:
            return True
    try:
        age = time.time() - (_folder(instance) / f"{k}.started").stat().st_mtime
    except OSError:
        return False
    return 0 <= age < STARTING_S and load(instance, k) is None and failure(instance, k) is None


def busy(instance: Path) -> bool:
    """As many jobs run as the instance allows."""
    keys = {p.stem for p in _folder(instance).glob("*.lock")} | {p.stem for p in _folder(instance).glob("*.started")}
    return sum(1 for k in keys if running(instance, k)) >= MAX_RUNNING


def start(instance: Path, config_path: Path, database_url: str, office: str, weeks: int, target: float, k: str) -> None:
    """Start the computation in a process of its own (detached: it outlives the request)."""
    folder = _folder(instance)
    (folder / f"{k}.err").unlink(missing_ok=True)
    (folder / f"{k}.started").touch()
    env = dict(os.environ, MOTCUA_CONFIG=str(config_path), MOTCUA_INSTANCE=str(instance), DATABASE_URL=database_url)
    log = open(folder / "jobs.log", "ab")
    try:
        subprocess.Popen(
            [sys.executable, "-m", "motcua", "staffing", "--office", office, "--weeks", str(weeks), "--target-p90", f"{target:g}", "--store"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
        )
    finally:
        log.close()
