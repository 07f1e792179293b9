"""The /api/v1 routes: thin wrappers that authenticate, validate, and call the engine."""

from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from motcua import auth
from motcua.api import appointments, cards
from motcua.api import schemas as S
from motcua.api.openapi import document
from motcua.api.routing import api_route, parse_body
from motcua.auth import STAFF, Principal
from motcua.engine import changes, clock, counters, tickets
from motcua.engine.errors import QueueError
from motcua.engine.snapshot import snapshot
from motcua.engine.views import counter_view, holder_ticket_view, service_view, ticket_view
from motcua.models import DeviceKind, Office, PriorityGroup, Role, Service, Ticket, User
from motcua.state import state

KIOSK = frozenset({DeviceKind.kiosk})
DISPLAYS = frozenset(DeviceKind)
OFFICE_PARAM = {"name": "office", "in": "query", "required": False, "schema": {"type": "string"}, "description": "Office code"}


# ---- fields and tickets ---------------------------------------------------------------


@api_route("/services", "GET", summary="Fields with waiting count, estimate, open or closed and why", auth="public", response=S.ServicesOut,
           params=[OFFICE_PARAM])
def list_services():
    with state().db.read() as s:
        office = _public_office(s)
        now = clock.now()
        services = s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order, Service.id)).all()
        groups = s.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id, PriorityGroup.active).order_by(PriorityGroup.sort_order)).all()
        return jsonify(
            office=office.code,
            services=[service_view(s, office, svc, now) for svc in services],
            priority_groups=[{"code": g.code, "name": g.name, "name_en": g.name_en} for g in groups],
        )


@api_route("/tickets", "POST", summary="Issue a ticket (kiosk device token or staff)", auth="kiosk, clerk, manager, admin", body=S.IssueTicket,
           response=S.IssuedTicket, status=201, parses_body=True)
def issue_ticket():
    db = state().db
    for attempt in range(2):
        try:
            with db.write() as s:
                p = auth.check(roles=STAFF, devices=KIOSK, session=s)
                body = parse_body(S.IssueTicket)  # only once the caller is known (see api_route)
                # Keys are per device, so two kiosks can never collide on one.
                key = f"{p.device_id or 'u' + str(p.user_id)}:{body.idempotency_key}" if body.idempotency_key else None
                office_id = auth.office_id_for(p, s, body.office)
                extra: dict = {}
                if body.appointment is not None:  # an appointment's check-in (motcua.api.appointments)
                    issued, extra = appointments.check_in(s, office_id, body, key, p, look_for_replay=attempt > 0)
                elif body.id_qr is not None or body.receipt_qr is not None:  # a card or a receipt (motcua.api.cards)
                    issued, extra = cards.issue(s, office_id, body, key, p, look_for_replay=attempt > 0)
                else:
                    issued = tickets.issue_ticket(s, office_id, body.service, priority=body.priority,
                                                  idempotency_key=key, device_id=p.device_id, user_id=p.user_id,
                                                  look_for_replay=attempt > 0)
            break
        except IntegrityError:
            # A repeated key (a double tap, a kiosk's retry, or two requests racing): the retry finds the first ticket.
            if attempt or not body.idempotency_key:
                raise
    view = dict(issued.view, public_id=issued.public_id, waiting_ahead=issued.waiting_ahead, eta_minutes=issued.eta.as_list(), eta_text=issued.eta.text(),
                eta_text_en=issued.eta.text_en(), status_url=state().status_url(issued.public_id), print_job=issued.print_job_id, **extra)
    return jsonify(view), 201 if issued.created else 200


@api_route("/tickets/<public_id>", "GET", summary="Public status of a ticket (the id is unguessable)", auth="public", response=S.TicketStatusOut)
def ticket_status(public_id: str):
    with state().db.read() as s:
        t = tickets.find_ticket(s, public_id)
        return jsonify(tickets.public_status(s, t))


@api_route("/tickets/<public_id>/cancel", "POST", summary="Cancel a ticket (the citizen who holds its id, or staff)", auth="public",
           body=S.CancelTicket, response=S.HeldTicketOut)
def cancel_ticket(public_id: str, body: S.CancelTicket):
    """Whoever holds the id cancels as the citizen: never as a signed-in staff member whose
    browser happens to carry a session (that would log the cancel under them, whatever their
    office); staff cancel from their own pages. A browser with a session cookie must show the
    page's CSRF token, so another site cannot make a signed-in browser cancel a ticket."""
    if request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        auth.require_csrf()
    with state().db.write() as s:
        t = tickets.find_ticket(s, public_id)
        tickets.cancel_ticket(s, t, user=None, reason=body.reason or "citizen")
        return jsonify(holder_ticket_view(t))


# ---- counters ------------------------------------------------------------------------


def _counter_action(number: int, action, *, open_first: bool = False):
    with state().db.write() as s:
        p = auth.check(roles=STAFF, session=s)  # the token is read in the call's own transaction
        office = auth.office_for(p, s, request.args.get("office"))
        c = counters.find_counter(s, office, number)
        user = s.get(User, p.user_id)
        if not counters.may_operate(user, c):
            raise QueueError("not_your_counter", f"Bạn không phụ trách quầy {number}.", f"You do not hold counter {number}.", status=403)
        if open_first and c.clerk_id is None and user.role == Role.clerk:
            counters.open_counter(s, c, user)  # a clerk's first call opens the counter for them
        recorded = len(changes.recorded(s))
        result = action(s, c, user)
        # Ticket actions answer with the ticket (call next with its id), counter actions with the counter.
        ticket = result if isinstance(result, (Ticket, int)) else None
        change = _shown(s, c, recorded)
        if change is not None and (ticket is None or "ticket" in change.data):
            # `seq`: the change this answer shows, so the page can tell a live update older than it.
            return jsonify(ticket=change.data["ticket"] if ticket is not None else None, counter=change.data["counter"], seq=change.seq)
        if isinstance(ticket, int):
            ticket = s.get(Ticket, ticket)
        s.flush()
        s.expire(c, ["current_ticket", "clerk"])  # see counters._publish_counter
        return jsonify(ticket=ticket_view(ticket) if ticket else None, counter=counter_view(c))


def _shown(s, c, recorded: int) -> changes.Change | None:
    """What the action's last change showed of the counter and its ticket, if it recorded one: every
    action records its change last, so that is the answer too, and need not be built again."""
    new = changes.recorded(s)[recorded:]
    if new and new[-1].office_id == c.office_id and new[-1].data.get("counter", {}).get("number") == c.number:
        return new[-1]
    return None


def _counter_doc(action: str, summary: str, body=None):
    params = [{"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}}, OFFICE_PARAM]
    return api_route(f"/counters/<int:number>/{action}", "POST", summary=summary, auth="clerk (own counter), manager, admin", body=body,
                     response=S.CounterActionOut, params=params)


@_counter_doc("open", "Take the counter (one counter per clerk)")
def counter_open(number: int):
    return _counter_action(number, lambda s, c, u: counters.open_counter(s, c, u))


@_counter_doc("close", "Leave the counter")
def counter_close(number: int):
    return _counter_action(number, lambda s, c, u: counters.close_counter(s, c, u))


@_counter_doc("next", "Call the next citizen; {ticket: null} when nobody waits")
def counter_next(number: int):
    return _counter_action(number, lambda s, c, u: counters.call_next(s, c, u), open_first=True)


@_counter_doc("recall", "Call the current number again")
def counter_recall(number: int):
    return _counter_action(number, lambda s, c, u: counters.recall(s, c, u))


@_counter_doc("start", "The citizen has arrived: start serving")
def counter_start(number: int):
    return _counter_action(number, lambda s, c, u: counters.start(s, c, u))


@_counter_doc("finish", "Finish serving the current citizen")
def counter_finish(number: int):
    return _counter_action(number, lambda s, c, u: counters.finish(s, c, u))


@_counter_doc("no-show", "The called citizen did not come")
def counter_no_show(number: int):
    return _counter_action(number, lambda s, c, u: counters.no_show(s, c, u))


@_counter_doc("pause", "Pause the counter with a reason", S.Pause)
def counter_pause(number: int, body: S.Pause):
    return _counter_action(number, lambda s, c, u: counters.pause(s, c, body.reason, u))


@_counter_doc("resume", "Resume a paused counter")
def counter_resume(number: int):
    return _counter_action(number, lambda s, c, u: counters.resume(s, c, u))


@_counter_doc("transfer", "Send the current citizen to another field's queue", S.Transfer)
def counter_transfer(number: int, body: S.Transfer):
    return _counter_action(number, lambda s, c, u: counters.transfer(s, c, body.service, body.position, u))


@_counter_doc("call", "Call a given number out of turn (a reason is required and logged)", S.CallNumber)
def counter_call(number: int, body: S.CallNumber):
    return _counter_action(number, lambda s, c, u: counters.call_number(s, c, body.code, body.reason, u), open_first=True)


# ---- the whole queue -----------------------------------------------------------------


@api_route("/queue", "GET", summary="Snapshot of every counter, field and recent call, with the sequence number", auth="staff or any device",
           response=S.QueueOut, params=[OFFICE_PARAM])
def queue_snapshot():
    p = auth.check(roles=STAFF, devices=DISPLAYS)
    with state().db.read() as s:
        office = auth.office_for(p, s, request.args.get("office"))
        return jsonify(snapshot(s, office))


@api_route("/openapi.json", "GET", summary="This document", auth="public")
def openapi():
    return jsonify(document())


def _public_office(s) -> Office:
    """Public reads: the office named by ?office=, the caller's own, or the only one."""
    code = request.args.get("office")
    p: Principal | None = auth.current_principal()
    if p is not None:
        return auth.office_for(p, s, code)
    if code:
        office = s.scalar(select(Office).where(Office.code == code))
        if office is None:
            raise QueueError("unknown_office", f"Không có đơn vị '{code}'.", f"There is no office '{code}'.", status=404)
        return office
    offices = s.scalars(select(Office).order_by(Office.id).limit(2)).all()
    if len(offices) == 1:
        return offices[0]
    if not offices:
        raise QueueError("no_office", "Chưa cấu hình đơn vị nào.", "No office is configured.", status=404)
    raise QueueError("office_required", "Hãy chọn đơn vị (tham số office).", "Name the office (the office parameter).", status=422)

