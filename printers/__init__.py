"""printers: ticket layout and rendering, ESC/POS encoding, printer connections,
status queries and (later) the print spooler.

Importing this package stays cheap: nothing here imports python-escpos or Pillow.
Submodules (layout, encode, connections, status, raster) import neither Flask nor the
database; only init_app() below may touch the app.
"""

from __future__ import annotations

from typing import Any


def init_app(app: Any) -> None:
    """Entry point the app factory calls (``motcua.plugins`` entry point group).

    A no-op for now: the print spooler (one worker per printer, status checks,
    retries, on-screen fallback) is wired here later.
    """
