"""Keep python-escpos 3.1 out of the server's stdout and logs.

What 3.1 does (paths under site-packages/escpos/):
- capabilities.py:16 runs ``logging.basicConfig()`` at import: a stderr handler on the
  root logger of the host application.
- printer/{network,usb,serial,file,cups,lp}.py call the module-level
  ``logging.info()``/``logging.error()`` ("Network printer enabled", "Closing ..." on
  every job). Those log on the root logger and, when the root has no handler yet,
  call ``basicConfig()`` again.
- escpos.py:218 ``print()``s on every ``image()`` call when the profile's media width is
  "Unknown" (the "default" profile), escpos.py:495/596/613 in barcode paths, and
  capabilities.py:52/75 when its data file is broken.

Importing escpos through this module undoes the import-time handler, reroutes the
drivers' log calls to the ``printers.escpos`` logger at DEBUG, and ``quiet()`` sends
``print()`` output of the calling thread (only) to that logger as well.
"""

from __future__ import annotations

import importlib
import io
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, TextIO

log = logging.getLogger("printers.escpos")

_DRIVERS = ("network", "usb", "serial", "file", "cups", "lp", "win32raw")


def _import_capabilities() -> None:
    """Import escpos.capabilities and remove the root handler its basicConfig() added."""
    if "escpos.capabilities" in sys.modules:
        return  # imported before us: cannot tell its handler from the app's own
    root = logging.getLogger()
    before = list(root.handlers)
    importlib.import_module("escpos.capabilities")
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)


class _DriverLogging:
    """Stands in for the ``logging`` module inside escpos.printer.* driver modules."""

    def _debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stacklevel", 2)
        log.debug(msg, *args, **kwargs)

    debug = info = warning = warn = error = critical = _debug

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exc_info", True)
        self._debug(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(logging, name)


def _install_driver_logging() -> None:
    shim = _DriverLogging()
    for name in _DRIVERS:
        module = sys.modules.get(f"escpos.printer.{name}")
        if isinstance(module, ModuleType) and getattr(module, "logging", None) is logging:
            module.logging = shim  # type: ignore[attr-defined]


_import_capabilities()
importlib.import_module("escpos.printer")
_install_driver_logging()


class _ThreadAwareStdout(io.TextIOBase):
    """Forwards to the real stdout except for threads inside ``quiet()``."""

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def write(self, s: str) -> int:
        if getattr(_local, "depth", 0):
            if s.strip():
                log.debug("escpos printed: %s", s.rstrip())
            return len(s)
        return self.target.write(s)

    def flush(self) -> None:
        self.target.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, isatty...
        return getattr(self.target, name)


_local = threading.local()
_lock = threading.Lock()
_active = 0
_proxy: _ThreadAwareStdout | None = None


@contextmanager
def quiet() -> Iterator[None]:
    """Silence ``print()`` from escpos in this thread; other threads print normally.

    sys.stdout is swapped only while at least one thread is inside, and put back only
    if nobody (pytest's capture, say) replaced it meanwhile.
    """
    global _active, _proxy
    with _lock:
        if _active == 0 and sys.stdout is not None and not isinstance(sys.stdout, _ThreadAwareStdout):
            _proxy = _ThreadAwareStdout(sys.stdout)
            sys.stdout = _proxy
        _active += 1
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1
        with _lock:
            _active -= 1
            if _active == 0 and _proxy is not None:
                if sys.stdout is _proxy:
                    sys.stdout = _proxy.target
                _proxy = None
