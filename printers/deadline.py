"""Bounding device I/O in time, in threading and in gevent (`--prod`) processes alike."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from printers.spec import PrintTimeout

T = TypeVar("T")


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def _gevent_pool():
    """gevent's pool of native threads when gevent has patched this process (`--prod`), else None."""
    from motcua.production import gevent_patched

    if not gevent_patched():
        return None
    import gevent

    return gevent.get_hub().threadpool


def off_the_hub(fn: Callable[[], T]) -> T:
    """Run device I/O that waits in the kernel (USB, serial): under gevent a greenlet doing it
    would stop the whole process, so a native thread of gevent's pool does it there."""
    pool = _gevent_pool()
    return pool.apply(fn) if pool is not None else fn()


def run_with_deadline(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run a blocking call in a worker thread and stop waiting after ``timeout``.

    For calls with no timeout of their own (a write to /dev/usb/lp0 of a printer that
    is off, a CUPS submission). A stuck call keeps its thread; the caller gets
    PrintTimeout and should stop sending to that printer until it recovers. Under gevent
    the thread is a native one of gevent's pool (see off_the_hub).
    """
    pool = _gevent_pool()
    if pool is not None:
        import gevent

        try:
            return pool.spawn(fn).get(timeout=timeout)
        except gevent.Timeout:
            raise PrintTimeout(f"{what}: no progress within {timeout:g} s") from None
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"printers:{what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise PrintTimeout(f"{what}: no progress within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")  # type: ignore[return-value]
