"""A gateway for the notification webhooks, on loopback in a thread: it checks each request's
signature itself, answers 500 to the first `fail_first` attempts of each delivery, and records
what it accepted (tests/test_notify_webhook.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.env import REPO

SECRET = "gateway-test-secret"
REMOTE = REPO / "tests" / "data" / "remote.toml"


@dataclass
class Received:
    delivery: str
    signature_ok: bool
    status: int
    body: dict | None


@dataclass
class Gateway:
    server: ThreadingHTTPServer
    secret: str = SECRET
    fail_first: int = 0  # 500s for the first attempts of every delivery
    always: int | None = None  # answer this to everything (500: a gateway that is down; 400: refuses)
    delay_s: float = 0.0  # each answer waits this long (lets concurrent senders overlap)
    received: list[Received] = field(default_factory=list)
    attempts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.status == 200]

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.attempts.clear()
        self.fail_first, self.always, self.delay_s = 0, None, 0.0

    def answer(self, raw: bytes, signature: str, delivery: str) -> int:
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, signature)
        with self.lock:
            self.attempts[delivery] += 1
            n = self.attempts[delivery]
        status = 401 if not ok else self.always or (500 if n <= self.fail_first else 200)
        if self.delay_s:
            time.sleep(self.delay_s)
        with self.lock:
            self.received.append(Received(delivery, ok, status, json.loads(raw) if ok else None))
        return status

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_gateway() -> Gateway:
    holder: list[Gateway] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = holder[0].answer(raw, self.headers.get("X-Motcua-Signature", ""), self.headers.get("X-Motcua-Delivery", ""))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    gateway = Gateway(server)
    holder.append(gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return gateway


def notify_config(folder: Path, url: str, *, events: list[str] | None = None, secret: str = SECRET, base: Path = REMOTE) -> Path:
    """tests/data/remote.toml (remote numbers on, demo office), or `base`, with a webhook notifier added."""
    path = folder / "notify.toml"
    lines = ["", "[[offices.notifiers]]", 'kind = "webhook"', f'url = "{url}"', f'secret = "{secret}"']
    if events is not None:
        lines.append("events = [" + ", ".join(f'"{e}"' for e in events) + "]")
    path.write_text(base.read_text(encoding="utf-8") + "\n".join(lines) + "\n", encoding="utf-8")
    return path
