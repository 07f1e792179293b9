"""Tickets from a citizen's ID card: the greeting, the elderly priority, one waiting ticket per
card and field, and the keyed hash that links visits (Decree 13/2023: the least kept).

Nothing of the card leaves this module but `citizen_ref` (HMAC of the number with the instance
secret), the age band, and the given name for the kiosk's greeting (answered, never stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from motcua.engine import clock, tickets
from motcua.engine.errors import QueueError
from motcua.engine.tickets import Issued
from motcua.identity import cccd
from motcua.models import Office, PriorityGroup, Service, Ticket, TicketStatus

ELDERLY = "elderly"
DEFAULT_ELDERLY_AGE = 60
DEFAULT_PERSONAL_DATA_DAYS = 90


def bad_card() -> QueueError:
    return QueueError("bad_id_qr", "Không đọc được thẻ, mời thử lại hoặc chọn lĩnh vực.",
                      "The card could not be read: please try again or choose a field.", status=422)


def elderly_age(office: Office) -> int:
    return int((office.settings or {}).get("elderly_age") or DEFAULT_ELDERLY_AGE)


def personal_data_days(office: Office) -> int:
    return int((office.settings or {}).get("personal_data_days") or DEFAULT_PERSONAL_DATA_DAYS)


def one_ticket_per_citizen(office: Office, service_code: str) -> bool:
    settings = office.settings or {}
    per_field = settings.get("one_ticket_per_citizen_fields") or {}
    if service_code in per_field:
        return bool(per_field[service_code])
    return bool(settings.get("one_ticket_per_citizen", True))


@dataclass(frozen=True)
class Citizen:
    """What a scan leaves once read: no number, no name but the given name, no birth date."""

    ref: str
    given_name: str
    age: int
    band: str

    def answer(self) -> dict:
        """What the kiosk may show: the API answers this and nothing else of the card."""
        return {"given_name": self.given_name, "age_band": self.band}


def read_card(id_qr: str, secret: str, day: date) -> Citizen:
    try:
        card = cccd.parse(id_qr, today=day)
    except cccd.CardError:
        raise bad_card() from None
    age = card.age_on(day)
    return Citizen(cccd.citizen_ref(secret, card.number), card.given_name, age, cccd.age_band(age))


def _elderly_group(session: Session, office_id: int) -> PriorityGroup | None:
    return session.scalar(select(PriorityGroup).where(PriorityGroup.office_id == office_id, PriorityGroup.code == ELDERLY,
                                                      PriorityGroup.active))


def is_elderly(office: Office, citizen: Citizen) -> bool:
    return citizen.age >= elderly_age(office)


def priority_for(session: Session, office: Office, citizen: Citizen, asked: str | None) -> str | None:
    """None asked: the elderly group for a citizen old enough (when the office has one); "" asked:
    no priority. The elderly group asked for a younger citizen's card is refused."""
    if asked == ELDERLY and not is_elderly(office, citizen):
        raise QueueError("priority_not_eligible", f"Nhóm người cao tuổi dành cho công dân từ {elderly_age(office)} tuổi.",
                         f"The elderly group is for citizens aged {elderly_age(office)} or more.", status=422)
    if asked is None and is_elderly(office, citizen) and _elderly_group(session, office.id) is not None:
        return ELDERLY
    return asked or None


def waiting_tickets(session: Session, office_id: int, day: date, ref: str, service_id: int | None = None) -> list[Ticket]:
    q = select(Ticket).where(Ticket.office_id == office_id, Ticket.business_day == day, Ticket.citizen_ref == ref,
                             Ticket.status == TicketStatus.waiting)
    if service_id is not None:
        q = q.where(Ticket.service_id == service_id)
    return list(session.scalars(q.order_by(Ticket.id)))


def card_status(session: Session, office: Office, id_qr: str, secret: str, now: datetime | None = None) -> dict:
    """What the kiosk shows right after a scan: the greeting, whether the elderly priority is
    offered, and the card's tickets still waiting today (to show and reprint, not issue again)."""
    now = now or clock.now()
    day = clock.business_day(now, office.timezone)
    citizen = read_card(id_qr, secret, day)
    elderly = is_elderly(office, citizen) and _elderly_group(session, office.id) is not None
    waiting = [{"public_id": t.public_id, "code": t.code, "service": t.service.code, "service_name": t.service.name,
                "service_name_en": t.service.name_en, "priority": t.priority_group.code if t.priority_group else None}
               for t in waiting_tickets(session, office.id, day, citizen.ref)]
    return {"citizen": citizen.answer(), "elderly": elderly, "waiting": waiting}


def issue_with_card(session: Session, office_id: int, service_code: str, id_qr: str, secret: str, *,
                    priority: str | None = None, now: datetime | None = None, **issue: object) -> tuple[Issued, Citizen, bool]:
    """Issue a ticket for the card's holder, or answer with their ticket of this field still
    waiting today when the field allows one per citizen. Returns (issued, citizen, existing)."""
    now = now or clock.now()
    office = session.get(Office, office_id)
    day = clock.business_day(now, office.timezone)
    citizen = read_card(id_qr, secret, day)
    service = session.scalar(select(Service).where(Service.office_id == office_id, Service.code == service_code))
    if service is None:
        raise tickets.unknown_service(service_code)
    group = priority_for(session, office, citizen, priority)
    if one_ticket_per_citizen(office, service.code):
        held = waiting_tickets(session, office_id, day, citizen.ref, service.id)
        if held:
            return tickets.replayed(session, held[0].id), citizen, True
    issued = tickets.issue_ticket(session, office_id, service.code, priority=group, now=now,
                                  citizen_ref=citizen.ref, age_band=citizen.band, **issue)
    return issued, citizen, False


def forget_citizens(session: Session, office: Office, today: date) -> int:
    """Clear `citizen_ref` of tickets older than the office's `personal_data_days` (the day end
    runs it): after that, nothing links a citizen's visits. Returns how many were cleared."""
    cutoff = today - timedelta(days=personal_data_days(office))
    result = session.execute(update(Ticket).where(Ticket.office_id == office.id, Ticket.business_day < cutoff,
                                                  Ticket.citizen_ref.is_not(None)).values(citizen_ref=None)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0
