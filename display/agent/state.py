"""The office's queue state as a display keeps it, in step with the server.

The same rules as the browser's `motcua/static/js/queue-client.js`, so an LED board and a
TV never disagree:

* a `snapshot` replaces everything (on connect, on every reconnect, and when asked for);
* a `change` is applied only when its `seq` is the next one; `seq <= last` is a duplicate
  (ignored); `seq > last + 1` is a gap: ask the server for a new snapshot;
* each call id is announced once. Calls already on screen at the first snapshot are not
  announced at all; calls that a later snapshot brings (missed while disconnected) are
  announced, oldest first, while they are still fresh.

No I/O here: the agent feeds messages in and acts on what comes back, which keeps this
testable without a server.
"""

from __future__ import annotations

import copy
import enum
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

RECENT_CALLS = 12  # what the server's snapshot holds (motcua.engine.snapshot.RECENT_CALLS)
FRESH_SECONDS = 60.0  # a call missed while disconnected is still worth announcing
SPOKEN_MEMORY = 2000  # call ids remembered; far more than a day's replays can bring back


class Outcome(str, enum.Enum):
    applied = "applied"
    duplicate = "duplicate"  # seq already seen: ignore
    gap = "gap"  # changes were missed: ask for a snapshot
    no_state = "no_state"  # no snapshot yet: the coming snapshot will include it


@dataclass
class Applied:
    outcome: Outcome
    announce: list[dict] = field(default_factory=list)  # calls to announce, oldest first


def _parse(at: str | None) -> datetime | None:
    if not at:
        return None
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _upsert(items: list[dict], item: dict, key: str) -> None:
    for i, existing in enumerate(items):
        if existing.get(key) == item.get(key):
            items[i] = item
            return
    items.append(item)


class QueueState:
    """Snapshot plus applied changes; `announce` lists are what to speak, each id once."""

    def __init__(self, *, fresh_seconds: float = FRESH_SECONDS, now: Callable[[], datetime] | None = None) -> None:
        self.fresh_seconds = fresh_seconds
        self._now = now or (lambda: datetime.now(UTC))
        self.snapshot: dict[str, Any] | None = None
        self._spoken: OrderedDict[int, None] = OrderedDict()

    # -- what the board shows ------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self.snapshot is not None

    @property
    def seq(self) -> int | None:
        return None if self.snapshot is None else self.snapshot["seq"]

    @property
    def counters(self) -> list[dict]:
        return [] if self.snapshot is None else self.snapshot["counters"]

    @property
    def services(self) -> list[dict]:
        return [] if self.snapshot is None else self.snapshot["services"]

    @property
    def recent_calls(self) -> list[dict]:
        return [] if self.snapshot is None else self.snapshot["recent_calls"]

    def counter(self, number: int) -> dict | None:
        return next((c for c in self.counters if c.get("number") == number), None)

    def was_announced(self, call_id: int) -> bool:
        return call_id in self._spoken

    # -- messages from the server --------------------------------------------------------

    def apply_snapshot(self, snap: dict[str, Any]) -> Applied:
        first = self.snapshot is None
        self.snapshot = copy.deepcopy(snap)
        calls = self.snapshot.setdefault("recent_calls", [])
        self.snapshot.setdefault("counters", [])
        self.snapshot.setdefault("services", [])
        announce: list[dict] = []
        for call in reversed(calls):  # oldest first
            if first or not self._is_fresh(call):
                self._remember(call["id"])
            elif self._take(call):
                announce.append(call)
        return Applied(Outcome.applied, announce)

    def apply_change(self, change: dict[str, Any]) -> Applied:
        if self.snapshot is None:
            return Applied(Outcome.no_state)
        seq = change.get("seq")
        if not isinstance(seq, int) or seq <= self.snapshot["seq"]:
            return Applied(Outcome.duplicate)
        if seq != self.snapshot["seq"] + 1:
            return Applied(Outcome.gap)
        snap = self.snapshot
        if change.get("counter"):
            _upsert(snap["counters"], copy.deepcopy(change["counter"]), "number")
        for key in ("service", "from_service"):
            if change.get(key):
                _upsert(snap["services"], copy.deepcopy(change[key]), "code")
        announce: list[dict] = []
        call = change.get("call")
        if call:
            rest = [c for c in snap["recent_calls"] if c.get("id") != call.get("id")]
            snap["recent_calls"] = [copy.deepcopy(call), *rest][:RECENT_CALLS]
            if self._take(call):
                announce.append(call)
        snap["seq"] = seq
        return Applied(Outcome.applied, announce)

    # -- each call once ------------------------------------------------------------------

    def _is_fresh(self, call: dict) -> bool:
        at = _parse(call.get("at"))
        return at is not None and (self._now() - at).total_seconds() < self.fresh_seconds

    def _take(self, call: dict) -> bool:
        """True the first time this call id is seen (then it is remembered)."""
        call_id = call.get("id")
        if call_id is None or call_id in self._spoken:
            return False
        self._remember(call_id)
        return True

    def _remember(self, call_id: int) -> None:
        self._spoken[call_id] = None
        self._spoken.move_to_end(call_id)
        while len(self._spoken) > SPOKEN_MEMORY:
            self._spoken.popitem(last=False)
