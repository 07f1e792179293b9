"""The outgoing queue of each Engine.IO socket under gevent, cheaper per message than gevent's.

python-engineio gives every socket a queue and a writer greenlet: an emit to a room puts the
message on each member's queue, and each writer wakes, takes everything queued (a `get` with a
timeout, then `get(block=False)` until Empty, `task_done` after each) and writes it out. With
gevent's JoinableQueue that pattern costs a pure-Python Timeout object for every blocking get, a
good part of the whole cost of a call reaching a thousand hall displays; this queue does the
same with a bare loop timer, a deque and one waiter per blocked getter (docs/benchmarks.md).

It keeps the contract python-engineio relies on: FIFO, several getters (a long-poll GET and the
websocket writer overlap during an upgrade), `get(timeout=...)` raising gevent's Empty (the
driver's `queue_empty`), `task_done`/`join` for `Socket.close(wait=True)`. gevent only: all
callers run on the hub's thread (under gevent, threads are greenlets).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from gevent.event import Event
from gevent.hub import Waiter, get_hub
from gevent.queue import Empty

_TIMED_OUT = object()


class WriterQueue:
    __slots__ = ("_all_done", "_getters", "_hub", "_items", "_unfinished")

    def __init__(self, maxsize: int | None = None) -> None:
        self._items: deque[Any] = deque()
        self._getters: deque[Waiter] = deque()
        self._unfinished = 0
        self._all_done: Event | None = None
        self._hub = get_hub()

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self._items.append(item)
        self._unfinished += 1
        if self._getters:
            # Waiter.switch must run on the hub: wake the longest-waiting getter from there.
            self._hub.loop.run_callback(self._getters.popleft().switch, None)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        items = self._items
        if items:
            return items.popleft()
        if not block or (timeout is not None and timeout <= 0):
            raise Empty
        waiter = Waiter(self._hub)
        timer = None
        if timeout is not None:
            timer = self._hub.loop.timer(timeout)
            timer.start(waiter.switch, _TIMED_OUT)
        try:
            while True:
                self._getters.append(waiter)
                woken_by = waiter.get()
                if items:
                    return items.popleft()
                if woken_by is _TIMED_OUT:
                    raise Empty
                # Another getter took the item first (get(block=False) between the put and our
                # turn): wait again, still under the same timer.
        finally:
            try:
                self._getters.remove(waiter)
            except ValueError:
                pass  # a put already took it off the list
            if timer is not None:
                timer.close()

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._all_done is not None:
            self._all_done.set()

    def join(self, timeout: float | None = None) -> bool:
        """Until every item put has been marked done (Socket.close waits for its writer)."""
        if self._unfinished == 0:
            return True
        if self._all_done is None:
            self._all_done = Event()
        self._all_done.clear()
        return self._all_done.wait(timeout)


def install(eio_server: Any) -> None:
    """Give the sockets of this python-engineio server (gevent mode) this queue. The server holds
    its async driver's table by reference: copy it, so other servers in the process keep theirs."""
    eio_server._async = dict(eio_server._async, queue=WriterQueue, queue_empty=Empty)
