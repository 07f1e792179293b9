"""What a board shows, as lines of text, from the queue state.

A hall board lists the latest calls, newest first; a counter board (`--counter N`) shows
its counter and the number being served there. Text is Vietnamese with marks; drivers of
ASCII-only boards fold it ("QUẦY 3" → "QUAY 3").
"""

from __future__ import annotations

from display.agent.state import QueueState

DISCONNECTED = "MẤT KẾT NỐI"
CONNECTING = "ĐANG KẾT NỐI"


def call_line(call: dict) -> str:
    counter = call.get("counter")
    return f"{call.get('code', '')} → QUẦY {counter}" if counter is not None else str(call.get("code", ""))


def hall_lines(state: QueueState, height: int) -> list[str]:
    calls = state.recent_calls[:height]
    return [call_line(c) for c in calls] or ["MỜI LẤY SỐ"]


def counter_lines(state: QueueState, number: int) -> list[str]:
    counter = state.counter(number)
    title = f"QUẦY {number}"
    if counter is None:
        return [title, "—"]
    status = counter.get("status")
    ticket = counter.get("ticket")
    if status == "closed":
        return [title, "ĐÓNG"]
    if status == "paused":
        return [title, "TẠM NGHỈ"]
    if ticket:
        return [title, str(ticket.get("code", ""))]
    return [title, "SẴN SÀNG"]


def board_lines(state: QueueState, *, counter: int | None, height: int, connected: bool) -> list[str]:
    if not connected:
        return [DISCONNECTED]
    if not state.ready:
        return [CONNECTING]
    if counter is not None:
        return counter_lines(state, counter)
    return hall_lines(state, height)


def announcement_text(call: dict) -> str:
    """Plain text of a call for boards and logs (the spoken form comes from the server)."""
    return f"Mời số {call.get('code')} đến quầy {call.get('counter')}"
