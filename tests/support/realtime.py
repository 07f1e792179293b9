"""Driving a live server's queue and reading what the real-time side sent."""

from __future__ import annotations

import time

import requests

from tests.support.demo import Demo
from tests.support.live import LiveServer


def issue(server: LiveServer, demo: Demo, service: str = "HT") -> dict:
    r = requests.post(f"{server.url}/api/v1/tickets", json={"service": service}, headers=demo.kiosk, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def call_next(server: LiveServer, demo: Demo, counter: int = 1) -> dict:
    r = requests.post(f"{server.url}/api/v1/counters/{counter}/next", headers=demo.clerk(counter).headers, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def server_snapshot(server: LiveServer, demo: Demo, display: str = "Màn hình sảnh") -> dict:
    r = requests.get(f"{server.url}/api/v1/queue", headers=demo.device_headers(display), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def comparable(snap: dict) -> dict:
    """A snapshot without the moment it was taken; estimates are compared as the server made them."""
    return {k: v for k, v in snap.items() if k != "at"}


def received(sio, kind: str, timeout: float = 5.0) -> list[dict]:
    """Changes of that kind the Socket.IO client got (they come from a background task)."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in sio.get_received("/display"):
            if msg["name"] == "change" and msg["args"][0]["kind"] == kind:
                got.append(msg["args"][0])
        if got:
            return got
        time.sleep(0.05)
    return got
