"""A hall display as the server sees it, for tests of several processes and of outages."""

from __future__ import annotations

import threading

import socketio

from motcua.engine.snapshot import RECENT_CALLS
from tests.support.waiting import wait_until

NS = "/display"
WAIT = 20.0


class Display:
    """A hall display as the server sees it: python-socketio on /display with a device token;
    applies the snapshot and in-order changes, asks for a new snapshot on a gap (as the
    browser client does), and remembers every call it heard."""

    def __init__(self) -> None:
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0, randomization_factor=0.2)
        self.lock = threading.Lock()
        self.state: dict | None = None
        self.snapshots = 0
        self.calls: list[dict] = []
        self.sio.on("snapshot", self._snapshot, namespace=NS)
        self.sio.on("change", self._change, namespace=NS)

    def _snapshot(self, snap: dict) -> None:
        with self.lock:
            self.state = snap
            self.snapshots += 1

    def _change(self, change: dict) -> None:
        with self.lock:
            if change.get("call"):
                self.calls.append(change["call"])
            if self.state is None or change["seq"] <= self.state["seq"]:
                return
            if change["seq"] != self.state["seq"] + 1:
                gap = True
            else:
                gap = False
                self._apply(change)
        if gap:
            self.sio.emit("snapshot", namespace=NS)

    def _apply(self, ch: dict) -> None:
        s = self.state
        if ch.get("counter"):
            s["counters"] = [ch["counter"] if c["number"] == ch["counter"]["number"] else c for c in s["counters"]]
        for key in ("service", "from_service"):
            if ch.get(key):
                s["services"] = [ch[key] if x["code"] == ch[key]["code"] else x for x in s["services"]]
        if ch.get("call"):
            s["recent_calls"] = [ch["call"], *[c for c in s["recent_calls"] if c["id"] != ch["call"]["id"]]][:RECENT_CALLS]
        s["seq"] = ch["seq"]

    def connect(self, url: str, token: str) -> Display:
        self.sio.connect(url, auth={"token": token}, namespaces=[NS], transports=["websocket"], wait_timeout=10)
        wait_until(lambda: self.state is not None, timeout=WAIT, what="the first snapshot")
        return self

    def heard(self, code: str) -> bool:
        with self.lock:
            return any(c["code"] == code for c in self.calls)

    def close(self) -> None:
        self.sio.disconnect()


def as_displayed(snap: dict) -> dict:
    """What a display shows: counters, fields and recent calls at a sequence number. (Wait
    estimates are left out: a change carries the estimate of its own field only, so another
    field's estimate is refreshed by the next snapshot, not by a counter opening.)"""
    services = [{k: v for k, v in svc.items() if not k.startswith("eta_")} for svc in snap["services"]]
    return {**{k: snap[k] for k in ("seq", "office", "counters", "recent_calls", "business_day")}, "services": services}
