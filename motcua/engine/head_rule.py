"""The queue order's choice among the heads of a counter's fields, written once: call next
(engine.counters) and the wait estimates (engine.estimates) both ask it."""

from __future__ import annotations


def pick_head(streak: int, heads: list[tuple[int, bool, float]], weights: dict[int, float], ratio: int,
              now_ts: float) -> tuple[int, bool, float] | None:
    """Among heads (field, priority, queue key): priority ones first, except that after `ratio`
    priority calls in a row (`streak`) an ordinary one gets its turn; within a class the largest
    weight × waiting time; ties by who came first."""
    if not heads:
        return None
    prio = [h for h in heads if h[1]]
    ordinary = [h for h in heads if not h[1]]
    pool = prio if prio and (streak < ratio or not ordinary) else ordinary
    return max(pool, key=lambda h: (weights[h[0]] * (now_ts - h[2]), -h[2]))
