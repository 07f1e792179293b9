"""motcua.writer_queue: the Engine.IO socket queue under gevent keeps the contract of gevent's
JoinableQueue that python-engineio relies on (the end-to-end check is
tests/test_realtime.py::test_under_prod_displays_get_calls_over_gevent_websocket)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import gevent
import pytest
from gevent.queue import Empty

from motcua.writer_queue import WriterQueue

REPO = Path(__file__).resolve().parent.parent


def test_first_in_first_out_and_empty_without_blocking() -> None:
    q = WriterQueue()
    for item in ("a", "b", "c"):
        q.put(item)
    assert q.qsize() == 3
    assert [q.get(), q.get(block=False), q.get(timeout=1)] == ["a", "b", "c"]
    assert q.empty()
    with pytest.raises(Empty):
        q.get(block=False)
    with pytest.raises(Empty):
        q.get(timeout=0)


def test_a_blocked_get_times_out_with_empty() -> None:
    q = WriterQueue()
    started = gevent.get_hub().loop.now()
    with pytest.raises(Empty):
        q.get(timeout=0.05)
    assert gevent.get_hub().loop.now() - started >= 0.04
    q.put("late")  # nobody waits any more: the item stays for the next get
    assert q.get(block=False) == "late"


def test_puts_wake_blocked_getters_in_the_order_they_came() -> None:
    q = WriterQueue()
    got: list[tuple[str, str]] = []
    getters = [gevent.spawn(lambda name=name: got.append((name, q.get(timeout=5)))) for name in ("first", "second")]
    gevent.sleep(0)  # both are waiting now
    q.put(1)
    q.put(2)
    gevent.joinall(getters, timeout=5)
    assert got == [("first", 1), ("second", 2)]


def test_a_getter_whose_item_was_taken_keeps_waiting() -> None:
    """A put wakes the blocked getter, but another greenlet takes the item before the getter
    runs: the getter must wait for the next item, not return nothing or give up."""
    q = WriterQueue()
    waiting = gevent.spawn(q.get, timeout=5)
    gevent.sleep(0)
    q.put("taken")
    assert q.get(block=False) == "taken"  # before the woken getter's turn
    gevent.sleep(0)
    assert not waiting.ready()
    q.put("kept")
    assert waiting.get(timeout=5) == "kept"


def test_the_timer_is_not_reset_by_a_stolen_wake_up() -> None:
    q = WriterQueue()
    waiting = gevent.spawn(q.get, timeout=0.1)
    gevent.sleep(0)
    q.put("taken")
    q.get(block=False)
    waiting.join(timeout=5)
    assert isinstance(waiting.exception, Empty)


def test_join_waits_until_every_item_is_done() -> None:
    q = WriterQueue()
    assert q.join(timeout=0) is True  # nothing pending
    q.put("x")
    q.put(None)

    def writer() -> None:
        while True:
            item = q.get(timeout=5)
            gevent.sleep(0.01)
            q.task_done()
            if item is None:
                return

    gevent.spawn(writer)
    assert q.join(timeout=5) is True
    with pytest.raises(ValueError, match="too many"):
        q.task_done()


def test_join_times_out_while_items_are_pending() -> None:
    q = WriterQueue()
    q.put("never done")
    assert not q.join(timeout=0.02)


def test_the_gevent_server_gives_every_socket_this_queue(tmp_path: Path, sqlite_templates) -> None:
    """As gunicorn's gevent worker does: patch the process, build the app, and check the queue
    python-engineio makes for a new socket (the threading server keeps its own)."""
    script = (
        "from gevent import monkey; monkey.patch_all()\n"
        "import sys\n"
        "import gevent.queue\n"
        "from motcua.app import create_app\n"
        "from motcua.realtime import get_socketio\n"
        "app = create_app(sys.argv[1], database_url=sys.argv[2], instance=sys.argv[3])\n"
        "eio = get_socketio(app).server.eio\n"
        "print(eio.async_mode, type(eio.create_queue()).__name__, eio.get_queue_empty_exception() is gevent.queue.Empty)\n"
    )
    config = REPO / "config.toml"
    db_file, _secret, _demos = sqlite_templates(config)
    shutil.copy(db_file, tmp_path / "motcua.db")
    out = subprocess.run(
        [sys.executable, "-c", script, str(config), f"sqlite:///{tmp_path}/motcua.db", str(tmp_path / "instance")],
        capture_output=True, text=True, cwd=REPO, timeout=120, env={"PATH": "/usr/bin:/bin", "MOTCUA_DAYEND": "off"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["gevent", "WriterQueue", "True"]
