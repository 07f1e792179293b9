"""Public routes for citizens at home: offices that give remote numbers, and taking one.

No sign-in: `POST /public/tickets` is limited per address and per phone (motcua.limits), and a
browser carrying a staff session must show the page's CSRF token (another site cannot make a
signed-in browser take numbers)."""

from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select

from motcua import auth, notify
from motcua.api import schemas as S
from motcua.api.routing import api_route
from motcua.engine import board, clock, remote
from motcua.engine.views import service_view
from motcua.models import Office, Service
from motcua.state import state


def public_fields(s, office: Office) -> list[dict]:
    """The office's fields as /q/<office> shows them: waiting, estimate, whether a remote number can be taken now."""
    now = clock.now()
    services = s.scalars(select(Service).where(Service.office_id == office.id, Service.active).order_by(Service.sort_order, Service.id)).all()
    return remote.remote_fields(s, office, [service_view(s, office, svc, now) for svc in services], now)


@api_route("/public/offices", "GET", summary="Offices, and whether each gives remote numbers", auth="public")
def public_offices():
    with state().db.read() as s:
        offices = s.scalars(select(Office).order_by(Office.name)).all()
        return jsonify(offices=[{"code": o.code, "name": o.name, "address": o.address,
                                 "remote_enabled": remote.RemoteSettings.of(o.settings).enabled} for o in offices])


@api_route("/public/tickets", "POST", summary="Take a remote number from a phone (never a priority one)", auth="public",
           body=S.RemoteTicket, response=S.IssuedTicket, status=201)
def take_remote_ticket(body: S.RemoteTicket):
    if request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        auth.require_csrf()
    with state().db.write() as s:
        issued, ask = remote.issue_remote(s, body.office, body.service, phone=body.phone, priority=body.priority,
                                          secret=current_app.config["SECRET_KEY"], seal=notify.phone_sealer(current_app))
    view = dict(issued.view, public_id=issued.public_id, source=remote.SOURCE, phone_mask=ask.phone_mask, waiting_ahead=issued.waiting_ahead,
                eta_minutes=issued.eta.as_list(), eta_text=issued.eta.text(), eta_text_en=issued.eta.text_en(),
                status_url=state().status_url(issued.public_id), print_job=None, awaiting_check_in=ask.check_in_code is not None,
                check_in_code=ask.check_in_code)
    return jsonify(view), 201


@api_route("/public/offices/<code>", "GET", summary="The public wait board: waiting, estimate and the last 30 days per field", auth="public")
def public_board(code: str):
    with state().db.read() as s:
        return jsonify(board.board(s, remote.find_office(s, code)))
