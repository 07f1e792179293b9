"""Pages for citizens at home: remote numbers (`/q/`, `/q/<office>`), appointments (`/q/<office>/book`,
and each appointment's page `/a/<public_id>`) and the public wait board (`/public/<office>`), mobile
first, Vietnamese first with an English switch, no sign-in. They read the core's public API
(motcua.api.public); the board may be embedded in the commune's website (its own frame-ancestors,
from the office's `board_frame_ancestors`)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, url_for
from flask_babel import get_locale
from sqlalchemy import select

from motcua.api.public import public_fields
from motcua.engine import board as boards
from motcua.engine import remote
from motcua.engine.errors import QueueError
from motcua.models import Office
from motcua.state import state

bp = Blueprint("public_pages", __name__, template_folder="templates")


def _lang() -> str:
    return str(get_locale() or "vi")


def office_or_404(s, code: str) -> Office:
    try:
        return remote.find_office(s, code)
    except QueueError:
        abort(404)


def no_store_page(html: str) -> Response:
    resp = Response(html)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/q/")
def offices():
    with state().db.read() as s:
        rows = [o for o in s.scalars(select(Office).order_by(Office.name)) if remote.RemoteSettings.of(o.settings).enabled]
        listed = [{"code": o.code, "name": o.name, "address": o.address} for o in rows]
    return no_store_page(render_template("kiosk/remote_offices.html", offices=listed))


@bp.get("/q/<code>")
def office(code: str):
    with state().db.read() as s:
        o = office_or_404(s, code)
        rs = remote.RemoteSettings.of(o.settings)
        fields = public_fields(s, o)
        info = {"code": o.code, "name": o.name, "address": o.address, "bookable": bool((o.settings or {}).get("booking_fields"))}
    config = {"lang": _lang(), "office": o.code, "phone_required": rs.phone_required,
              "urls": {"take": url_for("api.take_remote_ticket"), "fields": url_for("api.public_board", code=code)}}
    return no_store_page(render_template("kiosk/remote_office.html", office=info, fields=fields, remote=rs, config=config))


@bp.get("/public/<code>")
def board(code: str):
    with state().db.read() as s:
        o = office_or_404(s, code)
        data = boards.board(s, o)
        g.frame_ancestors = list((o.settings or {}).get("board_frame_ancestors") or [])  # motcua.app: this page only
    config = {"lang": _lang(), "url": url_for("api.public_board", code=code)}
    return no_store_page(render_template("kiosk/board.html", board=data, config=config))
