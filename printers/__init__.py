"""Ticket printing: layout, ESC/POS encoding, connections, status, and the spooler."""

from __future__ import annotations

from flask import Flask, has_request_context, request

from motcua.engine.changes import Change


def init_app(app: Flask) -> None:
    """Start the spooler and feed it every committed ticket that has a print job."""
    from motcua.app import csrf, state
    from printers import views
    from printers.spooler import Spooler

    st = state(app)
    spooler = Spooler(st.db, st.instance)
    app.extensions["motcua.spooler"] = spooler

    def base_url() -> str:
        # The QR must open on the citizen's phone: the address the kiosk itself used is the
        # best guess unless public_url says otherwise.
        if st.settings.get("public_url"):
            return st.settings["public_url"]
        if has_request_context():
            return request.host_url
        return f"http://{st.settings['host']}:{st.settings['port']}/"

    app.extensions["motcua.base_url"] = base_url

    def on_changes(changes: list[Change]) -> None:
        for change in changes:
            job = change.data.get("print_job")
            if change.kind == "ticket.issued" and job:
                spooler.submit(job, change.data["printer"], f"{base_url().rstrip('/')}/t/{change.local['public_id']}")

    st.db.subscribe(on_changes)
    if not app.testing:
        spooler.recover(base_url())
    csrf.exempt(views.bp)  # bearer tokens; auth.check validates CSRF for cookie sessions
    app.register_blueprint(views.bp)

