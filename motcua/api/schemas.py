"""Request and response bodies of /api/v1, validated with pydantic; the OpenAPI document is
built from these same models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IssueTicket(_Body):
    service: str | None = Field(default=None, min_length=1, max_length=16, description="Field code (not needed with receipt_qr or appointment)")
    appointment: str | None = Field(default=None, max_length=500, description="Check an appointment in (kiosks): its 6-character code, "
                                    "or its page's QR text as the scanner read it")
    priority: str | None = Field(default=None, max_length=32, description="Priority group code; with id_qr, \"\" asks for none "
                                 "(a citizen of `elderly_age` or more otherwise gets the elderly group)")
    idempotency_key: str | None = Field(default=None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    office: str | None = Field(default=None, max_length=32, description="Office code (admins of several offices)")
    id_qr: str | None = Field(default=None, max_length=500, description="The text of a CCCD's QR code, as the scanner read it (never stored)")
    receipt_qr: str | None = Field(default=None, max_length=2000, description="A dossier receipt's QR text: a ticket for the results desk")

    @model_validator(mode="after")
    def _what(self) -> IssueTicket:
        if self.appointment is not None:
            if self.service or self.receipt_qr is not None or self.id_qr is not None or self.priority:
                raise ValueError("appointment goes alone (its field is the booked one)")
            return self
        if self.receipt_qr is None and not self.service:
            raise ValueError("service is required (or receipt_qr)")
        if self.receipt_qr is not None and self.id_qr is not None:
            raise ValueError("id_qr and receipt_qr cannot go together")
        return self


class Transfer(_Body):
    service: str = Field(min_length=1, max_length=16)
    position: Literal["front", "back"] | None = None


class CallNumber(_Body):
    code: str = Field(min_length=1, max_length=16)
    reason: str = Field(min_length=1, max_length=500)


class Pause(_Body):
    reason: str = Field(min_length=1, max_length=200)


class CancelTicket(_Body):
    reason: str | None = Field(default=None, max_length=500)


class RemoteTicket(_Body):
    office: str = Field(min_length=1, max_length=32, description="Office code")
    service: str = Field(min_length=1, max_length=16, description="Field code")
    phone: str | None = Field(default=None, max_length=20, description="Vietnamese mobile number (kept only as a keyed hash)")
    priority: str | None = Field(default=None, max_length=32, description="Never accepted remotely: priority is checked at the kiosk")


class CheckIn(_Body):
    code: str | None = Field(default=None, max_length=16, description="The 6-character check-in code")
    scan: str | None = Field(default=None, max_length=500, description="The status page's QR text, as the kiosk's scanner read it")

    @model_validator(mode="after")
    def _one(self) -> CheckIn:
        if (self.code is None) == (self.scan is None):
            raise ValueError("give code or scan")
        return self


class ErrorDetail(BaseModel):
    code: str
    message: str = Field(description="Vietnamese")
    message_en: str
    details: dict | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ClosedReason(BaseModel):
    code: str
    message: str
    message_en: str


class ServiceOut(BaseModel):
    code: str
    name: str
    name_en: str
    prefix: str
    waiting: int
    eta_minutes: list[int] | None = Field(description="[low, high] minutes for a new ticket; null when unknown")
    eta_text: str
    eta_text_en: str
    open: bool
    closed_reason: ClosedReason | None


class ServicesOut(BaseModel):
    office: str
    services: list[ServiceOut]
    priority_groups: list[dict]


class TicketOut(BaseModel):
    """A ticket as every display and counter sees it: without its public id."""

    id: int
    code: str
    number: int
    service: str
    service_name: str
    priority: str | None
    status: str
    issued_at: str
    called_at: str | None
    started_at: str | None
    counter: int | None
    recalls: int
    appointment: dict | None = Field(default=None, description="An appointment's ticket: the booked slot {start, end} (ISO, UTC)")


class HeldTicketOut(TicketOut):
    """For whoever holds the ticket: its unguessable public id (status page, cancel, rating)."""

    public_id: str
    source: str | None = Field(default=None, description="kiosk, remote (a number taken from a phone) or appointment")
    phone_mask: str | None = Field(default=None, description="A remote number's phone, masked (09xx xxx 123)")
    awaiting_check_in: bool | None = Field(default=None, description="A remote number counters skip until the kiosk checks it in")
    check_in_code: str | None = Field(default=None, description="The 6-character code typed at the kiosk to check in")
    check_in_due_at: str | None = Field(default=None, description="When an unchecked remote number expires (once counters passed it)")


class CitizenOut(BaseModel):
    given_name: str
    age_band: str


class IssuedTicket(HeldTicketOut):
    waiting_ahead: int
    eta_minutes: list[int] | None
    eta_text: str
    eta_text_en: str
    status_url: str
    print_job: int | None = None
    citizen: CitizenOut | None = Field(default=None, description="With id_qr: the greeting and the age band, nothing else of the card")
    existing: bool = Field(default=False, description="The card's (or dossier's) ticket still waiting today, answered instead of a second")
    dossier: str | None = Field(default=None, description="With receipt_qr: the dossier code the ticket carries")


class TicketStatusOut(HeldTicketOut):
    office: str
    service_name_en: str
    priority_name: str | None
    priority_name_en: str | None
    position: int | None
    waiting_ahead: int
    now_serving: list[str]
    eta_minutes: list[int] | None
    eta_text: str | None
    eta_text_en: str | None
    business_day: str
    updated_at: str


class CounterOut(BaseModel):
    number: int
    name: str
    status: str
    pause_reason: str | None
    clerk: str | None
    services: list[str]
    ticket: TicketOut | None


class CounterActionOut(BaseModel):
    ticket: TicketOut | None
    counter: CounterOut
    seq: int | None = Field(None, description="The office change this answer shows (the live updates' sequence number)")


class CallOut(BaseModel):
    id: int
    kind: str
    code: str
    counter: int | None
    at: str


class QueueOut(BaseModel):
    seq: int
    at: str
    business_day: str
    office: dict
    counters: list[CounterOut]
    services: list[ServiceOut]
    recent_calls: list[CallOut]


class SlotOut(BaseModel):
    start: str
    end: str
    left: int


class SlotsOut(BaseModel):
    office: str
    service: str
    date: str
    per_slot: int | None
    closed_reason: ClosedReason | None = Field(description="Why the day offers no slot (not bookable, holiday, closed day, too far ahead, past)")
    slots: list[SlotOut]


class BookAppointment(_Body):
    office: str = Field(min_length=1, max_length=32)
    service: str = Field(min_length=1, max_length=16)
    start: str = Field(min_length=10, max_length=40, description="The slot's start, as /public/slots gave it (ISO 8601)")
    name: str = Field(min_length=1, max_length=200, description="The citizen's name, for the clerk (cleared after personal_data_days)")
    phone: str = Field(min_length=1, max_length=20, description="Vietnamese mobile number (kept only as a keyed hash)")


class BookedOut(BaseModel):
    code: str
    public_id: str
    service: str
    start: str
    end: str


class AppointmentOut(BaseModel):
    code: str
    public_id: str
    office: str
    service: str
    service_name: str
    start: str
    end: str
    status: str
    ticket: dict | None
    phone_mask: str | None
