"""Helpers of the fault tests (tests/test_faults.py, tests/test_fault_suite.py): kiosks issuing
under load, the tickets a database holds, the processes under a server."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

FIELDS = ("CT", "KD", "XH")  # the demo's fields without a daily quota


def process_tree(pid: int) -> list[int]:
    try:
        kids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return [pid]
    return [pid] + [p for k in kids for p in process_tree(k)]


def tickets_in_db(url: str) -> list[tuple[str, int, str]]:
    """(field code of the series, number, public id) of every ticket."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    try:
        with engine.connect() as c:
            rows = c.execute(text("SELECT s.code, t.number, t.public_id FROM tickets t JOIN services s ON s.id = t.series_id")).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows]


class Load:
    """Client threads issuing tickets as fast as the server answers, recording every 201."""

    def __init__(self, url: str, headers: dict, threads: int = 8) -> None:
        self.url, self.headers = url, headers
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.created: list[dict] = []
        self.failures: defaultdict[str, int] = defaultdict(int)
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, n: int) -> None:
        session = requests.Session()
        i = 0
        while not self.stop.is_set():
            body = {"service": FIELDS[(n + i) % 3], "idempotency_key": uuid.uuid4().hex}
            i += 1
            try:
                r = session.post(f"{self.url}/api/v1/tickets", json=body, headers=self.headers, timeout=10)
            except requests.RequestException as exc:
                with self.lock:
                    self.failures[type(exc).__name__] += 1
                time.sleep(0.02)
                continue
            with self.lock:
                if r.status_code == 201:
                    self.created.append(r.json())
                else:
                    self.failures[str(r.status_code)] += 1

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(20)

    def count(self) -> int:
        with self.lock:
            return len(self.created)
