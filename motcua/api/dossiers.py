"""Dossier codes at a counter: POST/DELETE /api/v1/counters/<n>/dossiers and
POST /api/v1/counters/<n>/dossiers/<code>/returned (the counter's clerk, a manager, an admin)."""

from __future__ import annotations

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from motcua import auth
from motcua.api.routing import api_route
from motcua.auth import STAFF
from motcua.engine import counters, dossiers
from motcua.engine.errors import QueueError
from motcua.models import User
from motcua.state import state

PARAMS = [{"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}},
          {"name": "office", "in": "query", "required": False, "schema": {"type": "string"}, "description": "Office code"}]


class DossierCode(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=dossiers.MAX_INPUT, description="The code, typed, or the receipt's whole QR text")


class DossierOut(BaseModel):
    code: str
    area: str | None
    source: str
    attached_at: str
    returned_at: str | None


class TicketDossiersOut(BaseModel):
    ticket: str = Field(description="Ticket code")
    dossiers: list[DossierOut]


def _at_counter(number: int, action):
    with state().db.write() as s:
        p = auth.check(roles=STAFF, session=s)
        office = auth.office_for(p, s, request.args.get("office"))
        c = counters.find_counter(s, office, number)
        user = s.get(User, p.user_id)
        if not counters.may_operate(user, c):
            raise QueueError("not_your_counter", f"Bạn không phụ trách quầy {number}.", f"You do not hold counter {number}.", status=403)
        action(s, c, user)
        t = c.current_ticket
        listed = dossiers.for_tickets(s, [t.id])[t.id]
        return jsonify(ticket=t.code, dossiers=[dossiers.dossier_view(d) for d in listed])


@api_route("/counters/<int:number>/dossiers", "POST", summary="Attach a dossier code to the citizen the counter serves (typed or scanned from the receipt)",
           auth="clerk (own counter), manager, admin", body=DossierCode, response=TicketDossiersOut, params=PARAMS)
def attach_dossier(number: int, body: DossierCode):
    return _at_counter(number, lambda s, c, u: dossiers.attach(s, c, u, body.code))


@api_route("/counters/<int:number>/dossiers/<code>", "DELETE", summary="Remove a dossier code attached by mistake",
           auth="clerk (own counter), manager, admin", response=TicketDossiersOut, params=PARAMS)
def remove_dossier(number: int, code: str):
    return _at_counter(number, lambda s, c, u: dossiers.remove(s, c, code))


@api_route("/counters/<int:number>/dossiers/<code>/returned", "POST", summary="The dossier's result was handed to the citizen the counter serves",
           auth="clerk (own counter), manager, admin", response=TicketDossiersOut, params=PARAMS)
def dossier_returned(number: int, code: str):
    return _at_counter(number, lambda s, c, u: dossiers.mark_returned(s, c, u, code))
