"""The display agent's pieces without a server: the queue state rules, board text, drivers."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from display.agent.board import board_lines, counter_lines, hall_lines
from display.agent.drivers import SerialDriver, StdoutDriver, ascii_fold, fit
from display.agent.state import RECENT_CALLS, Outcome, QueueState

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def call(call_id: int, code: str, counter: int = 1, *, ago: float = 5, kind: str = "called") -> dict:
    return {"id": call_id, "kind": kind, "code": code, "counter": counter, "at": (NOW - timedelta(seconds=ago)).isoformat()}


def counter(number: int, status: str = "open", ticket: str | None = None) -> dict:
    return {"number": number, "name": f"Quầy {number}", "status": status, "pause_reason": None, "clerk": None, "services": ["HT"],
            "ticket": {"code": ticket, "status": "called"} if ticket else None}


def service(code: str, waiting: int) -> dict:
    return {"code": code, "name": code, "waiting": waiting}


def snapshot(seq: int, calls: list[dict] | None = None, counters: list[dict] | None = None) -> dict:
    return {"seq": seq, "at": NOW.isoformat(), "office": {"code": "demo"}, "counters": counters or [counter(1), counter(2)],
            "services": [service("HT", 0), service("CT", 0)], "recent_calls": calls or []}


def called(seq: int, c: dict, waiting: int = 0) -> dict:
    return {"seq": seq, "kind": "ticket.called", "call": c, "ticket": {"code": c["code"]}, "service": service("HT", waiting),
            "counter": counter(c["counter"], ticket=c["code"])}


@pytest.fixture
def state() -> QueueState:
    return QueueState(now=lambda: NOW)


def test_changes_before_the_first_snapshot_wait_for_it(state: QueueState) -> None:
    assert not state.ready and state.seq is None and state.recent_calls == []
    assert state.apply_change(called(1, call(1, "A001"))).outcome is Outcome.no_state
    state.apply_snapshot(snapshot(1, [call(1, "A001")]))
    assert state.ready and state.seq == 1


def test_the_first_snapshot_announces_nothing_old(state: QueueState) -> None:
    result = state.apply_snapshot(snapshot(7, [call(2, "A002"), call(1, "A001")]))
    assert result.announce == []
    assert state.was_announced(1) and state.was_announced(2)


def test_changes_apply_in_sequence_and_each_call_is_announced_once(state: QueueState) -> None:
    state.apply_snapshot(snapshot(10))
    first = called(11, call(5, "A005", 2), waiting=3)
    result = state.apply_change(first)
    assert result.outcome is Outcome.applied and [c["id"] for c in result.announce] == [5]
    assert state.seq == 11
    assert state.counter(2)["ticket"]["code"] == "A005"
    assert next(s for s in state.services if s["code"] == "HT")["waiting"] == 3
    assert state.recent_calls[0]["id"] == 5

    again = state.apply_change(first)  # the same message delivered twice
    assert again.outcome is Outcome.duplicate and again.announce == []
    older = state.apply_change({"seq": 3, "kind": "ticket.issued"})
    assert older.outcome is Outcome.duplicate and state.seq == 11


def test_a_gap_asks_for_a_snapshot_and_changes_nothing(state: QueueState) -> None:
    state.apply_snapshot(snapshot(10))
    result = state.apply_change(called(12, call(6, "A006")))
    assert result.outcome is Outcome.gap and result.announce == []
    assert state.seq == 10 and state.recent_calls == []
    assert not state.was_announced(6)


def test_a_replay_in_a_later_snapshot_is_not_announced_again(state: QueueState) -> None:
    state.apply_snapshot(snapshot(10))
    state.apply_change(called(11, call(5, "A005")))
    # Reconnect: the snapshot brings A005 again and a call missed while away.
    result = state.apply_snapshot(snapshot(13, [call(6, "A006", 2, ago=3), call(5, "A005")]))
    assert [c["id"] for c in result.announce] == [6]
    # ...and once more (another reconnect): nothing.
    assert state.apply_snapshot(snapshot(13, [call(6, "A006", 2, ago=3), call(5, "A005")])).announce == []


def test_calls_missed_long_ago_are_shown_not_spoken(state: QueueState) -> None:
    state.apply_snapshot(snapshot(1))
    result = state.apply_snapshot(snapshot(9, [call(9, "A009", ago=2), call(8, "A008", ago=30), call(7, "A007", ago=600)]))
    assert [c["id"] for c in result.announce] == [8, 9]  # oldest first
    assert state.was_announced(7)
    assert [c["id"] for c in state.recent_calls] == [9, 8, 7]


def test_a_recall_is_a_new_call_and_moves_to_the_top(state: QueueState) -> None:
    state.apply_snapshot(snapshot(1, [call(1, "A001")]))
    state.apply_change(called(2, call(2, "A002", 2)))
    result = state.apply_change(called(3, call(3, "A001", 1, kind="recalled")))
    assert [c["id"] for c in result.announce] == [3]
    assert [c["id"] for c in state.recent_calls] == [3, 2, 1]


def test_recent_calls_are_capped_like_the_servers(state: QueueState) -> None:
    state.apply_snapshot(snapshot(0))
    for i in range(1, 20):
        state.apply_change(called(i, call(i, f"A{i:03d}")))
    assert len(state.recent_calls) == RECENT_CALLS
    assert state.recent_calls[0]["id"] == 19


def test_the_snapshot_given_is_not_shared(state: QueueState) -> None:
    snap = snapshot(1)
    state.apply_snapshot(snap)
    state.apply_change(called(2, call(2, "A002")))
    assert snap["seq"] == 1 and snap["recent_calls"] == []


# ---- board text and drivers ----------------------------------------------------------


def test_board_lines_for_a_hall_and_a_counter(state: QueueState) -> None:
    assert board_lines(state, counter=None, height=4, connected=True) == ["ĐANG KẾT NỐI"]
    state.apply_snapshot(snapshot(1, [call(2, "B002", 2), call(1, "A001", 1)], [counter(1, ticket="A001"), counter(2, "paused"), counter(3, "closed")]))
    assert hall_lines(state, 1) == ["B002 → QUẦY 2"]
    assert board_lines(state, counter=None, height=4, connected=True) == ["B002 → QUẦY 2", "A001 → QUẦY 1"]
    assert counter_lines(state, 1) == ["QUẦY 1", "A001"]
    assert counter_lines(state, 2) == ["QUẦY 2", "TẠM NGHỈ"]
    assert counter_lines(state, 3) == ["QUẦY 3", "ĐÓNG"]
    assert board_lines(state, counter=1, height=2, connected=False) == ["MẤT KẾT NỐI"]


def test_ascii_folding_and_fitting() -> None:
    assert ascii_fold("MẤT KẾT NỐI") == "MAT KET NOI"
    assert ascii_fold("Đường Điện Biên → Quầy 3") == "Duong Dien Bien > Quay 3"
    assert fit(["QUẦY 1", "A001", "extra"], 6, 2) == ["QUẦY 1", "A001  "]
    assert fit([], 3, 2) == ["   ", "   "]


def test_stdout_driver_prints_frames_and_announcements() -> None:
    out = io.StringIO()
    driver = StdoutDriver(out, width=12, height=2, ascii_only=True)
    driver.show(["MẤT KẾT NỐI"])
    driver.announce(call(4, "A004", 3), "Mời số A004 đến quầy 3")
    assert out.getvalue().splitlines() == [
        "+------------+",
        "|MAT KET NOI |",
        "|            |",
        "+------------+",
        "ANNOUNCE 4 A004 -> 3: Mời số A004 đến quầy 3",
    ]


def test_serial_driver_sends_a_cleared_ascii_frame() -> None:
    driver = SerialDriver("loop://", 9600, width=10, height=2)
    try:
        driver.show(["QUẦY 3", "A005 → QUẦY 3"])
        sent = driver.port.read(64)
    finally:
        driver.close()
    assert sent == b"\x0cQUAY 3    \r\nA005 > QUA"
