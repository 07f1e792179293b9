"""POST /api/v1/ratings: the citizen's rating, sent by the rating pad of the counter that served them."""

from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field

from motcua import auth
from motcua.api.routing import api_route
from motcua.devices import mark_seen
from motcua.engine import clock, ratings, tickets
from motcua.engine.errors import QueueError
from motcua.models import Device, DeviceKind
from motcua.state import state

RATING_PADS = frozenset({DeviceKind.rating})


class RateTicket(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ticket: str = Field(min_length=1, max_length=32, description="The ticket's public id (sent to the pad in `rating_request`)")
    score: int = Field(ge=1, le=7, description="1 = the best level, the first of the office's `rating_scale`; the scale's length = the worst")
    reason: str | None = Field(default=None, max_length=ratings.REASON_MAX, description="Required for the last `rating_low_count` levels")


class RatingOut(BaseModel):
    id: int
    ticket: str = Field(description="Ticket code")
    score: int
    scale: int = Field(description="Number of levels at the time of rating")
    label: str | None
    label_en: str | None
    low: bool
    has_reason: bool
    counter: int | None
    service: str
    business_day: str
    created_at: str


@api_route("/ratings", "POST", summary="Rate the service of a ticket just finished (rating pad of that counter; once per ticket)",
           auth="rating device", body=RateTicket, response=RatingOut, status=201)
def create_rating(body: RateTicket):
    p = auth.check(devices=RATING_PADS)
    with state().db.write() as s:
        device = s.get(Device, p.device_id)
        ticket = tickets.find_ticket(s, body.ticket)
        if ticket.office_id != device.office_id:  # another office's ticket: as if it did not exist
            raise QueueError("unknown_ticket", "Không tìm thấy phiếu.", "Ticket not found.", status=404)
        now = clock.now()
        r = ratings.rate(s, ticket, body.score, body.reason, device=device, now=now)
        mark_seen(s, device.id, now=now)
        out = ratings.rating_view(s, r, ticket=ticket)
    return jsonify(out), 201
