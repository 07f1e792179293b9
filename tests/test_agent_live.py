"""The display agent against a real server: through a call, a restart and replays."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import wave

import pytest
import requests

from display.agent import DisplayAgent, StdoutDriver
from tests.support.env import REPO
from tests.support.live import LiveServer
from tests.support.realtime import call_next, comparable, issue, server_snapshot
from tests.support.waiting import wait_until


class Board(StdoutDriver):
    """The stdout driver writing to memory, so the test reads what the board showed."""

    def __init__(self, width: int = 20, height: int = 2) -> None:
        super().__init__(io.StringIO(), width=width, height=height, ascii_only=True)
        self.frames: list[list[str]] = []
        self.lock = threading.Lock()

    def show(self, lines) -> None:
        with self.lock:
            self.frames.append([line.rstrip() for line in self.prepare(lines)])
        super().show(lines)

    def last(self) -> list[str]:
        with self.lock:
            return self.frames[-1] if self.frames else []


@pytest.fixture
def agents():
    made: list[DisplayAgent] = []
    yield made
    closers = [threading.Thread(target=a.stop) for a in made]
    for t in closers:
        t.start()
    for t in closers:
        t.join(10)


def test_the_agent_keeps_a_board_in_step_through_a_restart(live_server: LiveServer, agents, tmp_path) -> None:
    demo = live_server.demo
    hall, above_1 = Board(height=3), Board()
    played = tmp_path / "played"
    played.mkdir()
    agents.append(DisplayAgent(live_server.url, demo.devices["Màn hình sảnh"], hall, grace=0.5, play=f"cp {{file}} {played}/"))
    agents.append(DisplayAgent(live_server.url, demo.devices["Màn hình quầy 1"], above_1, counter=1, grace=0.5))
    for agent in agents:
        agent.start()
    wait_until(lambda: hall.last() == ["MOI LAY SO", "", ""], what="the hall board's first frame")
    wait_until(lambda: above_1.last() == ["QUAY 1", "DONG"], what="the counter board's first frame")

    ticket = issue(live_server, demo)
    call_next(live_server, demo, 1)
    wait_until(lambda: hall.last()[0] == f"{ticket['code']} > QUAY 1", what="the call on the hall board")
    wait_until(lambda: above_1.last() == ["QUAY 1", ticket["code"]], what="the call on the counter board")
    hall_agent, counter_agent = agents
    assert [c["code"] for c in hall_agent.announced] == [ticket["code"]]
    assert [c["code"] for c in counter_agent.announced] == [ticket["code"]]
    call_id = hall_agent.announced[0]["id"]
    # The announcement was fetched from the server and handed to the player, once.
    wait_until(lambda: (played / f"{call_id}.wav").exists(), what="the played announcement")
    with wave.open(str(played / f"{call_id}.wav")) as w:
        assert w.getnchannels() == 1 and w.getnframes() > w.getframerate()  # chime and speech: over a second

    live_server.stop()
    wait_until(lambda: hall.last()[0] == "MAT KET NOI", what="MAT KET NOI on the hall board")
    wait_until(lambda: above_1.last()[0] == "MAT KET NOI", what="MAT KET NOI on the counter board")
    live_server.start()
    wait_until(lambda: hall.last()[0] == f"{ticket['code']} > QUAY 1", timeout=15, what="the hall board back")
    wait_until(lambda: above_1.last() == ["QUAY 1", ticket["code"]], timeout=15, what="the counter board back")
    truth = server_snapshot(live_server, demo)
    assert comparable(hall_agent.state.snapshot) == comparable(truth)
    # The call came back in the reconnect snapshot: not announced, nor played, again.
    assert [c["id"] for c in hall_agent.announced] == [call_id]
    assert [c["id"] for c in counter_agent.announced] == [call_id]

    second = issue(live_server, demo, "CT")
    call_next(live_server, demo, 2)
    wait_until(lambda: hall.last()[:2] == [f"{second['code']} > QUAY 2", f"{ticket['code']} > QUAY 1"], what="the next call")
    assert [c["code"] for c in hall_agent.announced] == [ticket["code"], second["code"]]
    assert [c["code"] for c in counter_agent.announced] == [ticket["code"]]  # counter 2's call is not its own
    assert above_1.last() == ["QUAY 1", ticket["code"]]
    wait_until(lambda: len(agents[0]._player.played) == 2, what="the second announcement played")
    assert agents[0]._player.played == [call_id, hall_agent.announced[1]["id"]]


def test_the_command_line_agent_refuses_a_bad_token(live_server: LiveServer) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "display.agent", "--server", live_server.url, "--token", "dev_wrong", "--driver", "stdout"],
        capture_output=True, text=True, timeout=30, cwd=REPO,
    )
    assert proc.returncode == 2
    assert "Mã thiết bị không hợp lệ" in proc.stderr and "token was refused" in proc.stderr
    assert "MÃ THIẾT BỊ SAI" in proc.stdout


def test_the_command_line_agent_prints_the_board_and_each_call(live_server: LiveServer) -> None:
    demo = live_server.demo
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "display.agent", "--server", live_server.url, "--token", demo.devices["Màn hình quầy 1"],
         "--counter", "1", "--driver", "stdout", "--width", "16", "--lines", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_until(lambda: "|QUẦY 1          |\n" in lines, what="the first frame")
        ticket = issue(live_server, demo)
        call_next(live_server, demo, 1)
        wait_until(lambda: any(line.startswith("ANNOUNCE") for line in lines), what="the announcement")
        wait_until(lambda: f"|{ticket['code']:<16}|\n" in lines, what="the number on the board")
        assert [line for line in lines if line.startswith("ANNOUNCE")] == [f"ANNOUNCE {_call_id(live_server)} {ticket['code']} -> 1: Mời số {ticket['code']} đến quầy 1\n"]
    finally:
        proc.terminate()
        proc.wait(10)


def _call_id(server: LiveServer) -> int:
    r = requests.get(f"{server.url}/api/v1/queue", headers=server.demo.device_headers("Màn hình sảnh"), timeout=10)
    return r.json()["recent_calls"][0]["id"]


def test_the_command_line_agent_stops_when_its_token_is_revoked_while_it_runs(live_server: LiveServer) -> None:
    """A revoked token is a set-up error, not an outage: the board says so and the agent exits 2
    (instead of "MẤT KẾT NỐI" for ever). Revoked in the database, as another server process
    would: the server's token guard cuts the socket within its check interval."""
    from sqlalchemy import create_engine, update

    from motcua.engine import clock
    from motcua.models import Device

    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "display.agent", "--server", live_server.url, "--token", live_server.demo.devices["Màn hình quầy 1"],
         "--counter", "1", "--driver", "stdout", "--width", "16", "--lines", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_until(lambda: "|QUẦY 1          |\n" in lines, what="the first frame")
        engine = create_engine(live_server.env["DATABASE_URL"])
        try:
            with engine.begin() as c:
                c.execute(update(Device).where(Device.name == "Màn hình quầy 1").values(revoked_at=clock.now()))
        finally:
            engine.dispose()
        assert proc.wait(40) == 2
        reader.join(5)
        stderr = proc.stderr.read()
        assert "thu hồi" in stderr and "revoked or replaced" in stderr
        assert any(line.startswith("|MÃ THIẾT BỊ SAI") for line in lines), lines
        assert not any("MẤT KẾT NỐI" in line for line in lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
