"""Ticket printing: layout, ESC/POS encoding, connections, status, and the spooler."""

from __future__ import annotations

from flask import Flask

from motcua.engine.changes import Change
from motcua.rooms import register_room
from motcua.state import state


def init_app(app: Flask) -> None:
    """Start the spooler and feed it every committed ticket that has a print job."""
    from motcua.printer_targets import Allowlist
    from printers import views
    from printers.spooler import Spooler

    st = state(app)
    spooler = Spooler(st.db, st.instance, Allowlist.of(st))
    app.extensions["motcua.spooler"] = spooler

    def on_changes(changes: list[Change]) -> None:
        for change in changes:
            job = change.data.get("print_job")
            if change.kind in ("ticket.issued", "ticket.reprinted") and job:
                spooler.submit(job, change.data["printer"], st.status_url(change.local["public_id"]))

    st.db.subscribe(on_changes)
    if not app.testing:
        spooler.recover_or_retry(st.status_url)
    register_room(app, bearer=[views.bp])

