"""Remote numbers: a ticket taken from a citizen's phone (`/q/<office>`, `POST /api/v1/public/tickets`).

It is the kiosk's ticket (same numbering, windows, quota, state machine and status page), marked
`source = "remote"`, with the office's limits on top:

- `remote_enabled` (default off) opens remote numbers for the office;
- `remote_share` (office default, `remote_share_fields` per field) is the percent of a field's
  daily quota remote numbers may take; 0 closes the field to them;
- `remote_per_phone_per_day` numbers per phone and day in the office (cancelled ones not counted).

The phone is kept only as an HMAC with the instance secret (`phone_ref`) and a mask that shows its
first two and last three digits. The limits are checked after the number is drawn, with the
office's row locked: on PostgreSQL two remote numbers of an office then count one after the other
(the lock order, series counter then office row, is the one every issue takes), on SQLite the
writer lock already orders them. A refusal rolls the number back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.engine import clock
from motcua.engine.errors import QueueError
from motcua.engine.tickets import Issued, find_service, issue_ticket
from motcua.models import Office, Service, Ticket, TicketStatus

SOURCE = "remote"
# Unambiguous when read aloud or typed on the kiosk (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
_MOBILE = re.compile(r"^0\d{9}$")


@dataclass(frozen=True)
class RemoteSettings:
    enabled: bool
    share: int
    share_fields: dict[str, int]
    phone_required: bool
    per_phone: int
    check_in: bool
    grace_minutes: int

    @classmethod
    def of(cls, settings: dict | None) -> RemoteSettings:
        s = settings or {}
        return cls(bool(s.get("remote_enabled", False)), int(s.get("remote_share", 50)), dict(s.get("remote_share_fields") or {}),
                   bool(s.get("remote_phone_required", True)), int(s.get("remote_per_phone_per_day", 1)),
                   bool(s.get("remote_check_in", False)), int(s.get("check_in_grace_minutes", 15)))

    def share_for(self, service_code: str) -> int:
        return int(self.share_fields.get(service_code, self.share))

    def cap(self, service: Any) -> int | None:
        """How many remote numbers the field may give today (None: no quota, no cap)."""
        if not service.daily_quota:
            return None
        return service.daily_quota * self.share_for(service.code) // 100


def remote_closed(vi: str, en: str) -> QueueError:
    return QueueError("remote_closed", vi, en, status=403)


def remote_limit(vi: str, en: str, limit: str) -> QueueError:
    return QueueError("remote_limit", vi, en, status=409, limit=limit)


def bad_phone() -> QueueError:
    return QueueError("bad_phone", "Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0).",
                      "The phone number is not valid (10 digits starting with 0).", status=422)


def normalise_phone(raw: str) -> str:
    """A Vietnamese mobile number as ten digits from 0: spaces, dots, dashes and +84 accepted."""
    digits = re.sub(r"[\s.()-]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not _MOBILE.match(digits):
        raise bad_phone()
    return digits


def mask_phone(phone: str) -> str:
    """'0912345123' -> '09xx xxx 123': enough for the citizen to recognise their own number."""
    return f"{phone[:2]}xx xxx {phone[-3:]}"


def phone_ref(secret: str, phone: str) -> str:
    """HMAC-SHA256 of the normalised number with the instance secret: links one phone's numbers
    of a day without keeping the number (the prefix keeps it apart from card references)."""
    return hmac.new(secret.encode(), b"phone:" + phone.encode(), hashlib.sha256).hexdigest()


def closed_reason(rs: RemoteSettings, service: Service) -> tuple[str, str, str] | None:
    """Why this field takes no remote number at all (the office's settings), or None."""
    if not rs.enabled:
        return ("remote_closed", "Đơn vị này chưa nhận lấy số từ xa. Vui lòng lấy số tại quầy.",
                "This office does not give numbers remotely. Please take one at the kiosk.")
    if rs.share_for(service.code) <= 0:
        return ("remote_closed", "Lĩnh vực này không nhận lấy số từ xa. Vui lòng lấy số tại quầy.",
                "This field does not give numbers remotely. Please take one at the kiosk.")
    return None


SHARE_REACHED = ("remote_limit", "Đã hết số lấy từ xa của lĩnh vực này hôm nay. Bạn vẫn có thể lấy số tại quầy.",
                 "Today's remote numbers for this field have run out. You can still take one at the kiosk.")


def remote_taken(session: Session, service_id: int, day: date) -> int:
    """Remote numbers of the field's series today, cancelled ones included: they used the quota."""
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.series_id == service_id, Ticket.business_day == day, Ticket.source == SOURCE)) or 0


@dataclass(frozen=True)
class RemoteAsk:
    """A remote number being issued (engine.tickets.Remote)."""

    office_id: int
    settings: RemoteSettings
    phone_ref: str | None
    phone_mask: str | None
    check_in_code: str | None
    source: str = SOURCE
    phone_sealed: str | None = None  # only for an office whose SMS/Zalo gateway needs the number (motcua.notify)

    def admit(self, session: Session, service: Any, day: date) -> None:
        """Refuse past the field's remote share or the phone's daily limit; the number is drawn."""
        # Remote numbers of the office count one after the other (see the module's docstring).
        session.execute(select(Office.id).where(Office.id == self.office_id).with_for_update())
        cap = self.settings.cap(service)
        if cap is not None and remote_taken(session, service.id, day) >= cap:
            raise remote_limit(SHARE_REACHED[1], SHARE_REACHED[2], "share")
        if self.phone_ref is not None:
            held = session.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.office_id == self.office_id, Ticket.business_day == day, Ticket.phone_ref == self.phone_ref,
                Ticket.status != TicketStatus.cancelled)) or 0
            if held >= self.settings.per_phone:
                n = self.settings.per_phone
                raise remote_limit(f"Số điện thoại này đã lấy {n} số hôm nay.", f"This phone has already taken {n} number(s) today.", "phone")


def fresh_code(session: Session, column: Any, *same_day: Any) -> str:
    """A code of CODE_ALPHABET that no row matching `same_day` holds in `column` (a remote
    number's check-in code, an appointment's code): random, so nobody can guess the next."""
    for _ in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(column).where(*same_day, column == code).limit(1)) is None:
            return code
    raise QueueError("busy", "Hệ thống đang bận, vui lòng thử lại.", "The system is busy, please try again.", status=503)


def new_check_in_code(session: Session, office_id: int, day: date) -> str:
    return fresh_code(session, Ticket.check_in_code, Ticket.office_id == office_id, Ticket.business_day == day)


def find_office(session: Session, code: str) -> Office:
    office = session.scalar(select(Office).where(Office.code == code))
    if office is None:
        raise QueueError("unknown_office", f"Không có đơn vị '{code}'.", f"There is no office '{code}'.", status=404)
    return office


def issue_remote(session: Session, office_code: str, service_code: str, *, phone: str | None, priority: str | None,
                 secret: str, now: datetime | None = None,
                 seal: Callable[[str, str], str | None] | None = None) -> tuple[Issued, RemoteAsk]:
    """Issue a remote number in the session's write transaction, or refuse with the API's codes;
    answers with what was asked too (the phone's mask, the check-in code). `seal(office code,
    phone)` keeps the number encrypted when the office's gateway needs it (motcua.notify)."""
    now = now or clock.now()
    if priority:
        raise QueueError("priority_not_remote", "Số ưu tiên chỉ cấp tại quầy, sau khi cán bộ kiểm tra giấy tờ.",
                         "Priority numbers are only given at the kiosk, once staff have checked the papers.", status=422)
    office = find_office(session, office_code)
    service = find_service(session, office, service_code)
    rs = RemoteSettings.of(office.settings)
    closed = closed_reason(rs, service)
    if closed:
        raise remote_closed(closed[1], closed[2])
    if phone:
        phone = normalise_phone(phone)
    elif rs.phone_required:
        raise QueueError("phone_required", "Vui lòng nhập số điện thoại.", "Please enter a phone number.", status=422)
    day = clock.business_day(now, office.timezone)
    ask = RemoteAsk(office.id, rs, phone_ref(secret, phone) if phone else None, mask_phone(phone) if phone else None,
                    new_check_in_code(session, office.id, day) if rs.check_in else None,
                    phone_sealed=seal(office.code, phone) if phone and seal else None)
    return issue_ticket(session, office.id, service.code, now=now, remote=ask), ask


def remote_fields(session: Session, office: Office, views: list[dict], now: datetime) -> list[dict]:
    """The fields' views (service_view) with whether a remote number can be taken now, and why not."""
    rs = RemoteSettings.of(office.settings)
    day = clock.business_day(now, office.timezone)
    services = {s.code: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
    out = []
    for view in views:
        s = services[view["code"]]
        reason = closed_reason(rs, s)
        if reason is None and view["closed_reason"]:
            r = view["closed_reason"]
            reason = (r["code"], r["message"], r["message_en"])
        cap = rs.cap(s)
        if reason is None and cap is not None and remote_taken(session, s.id, day) >= cap:
            reason = SHARE_REACHED
        out.append(dict(view, remote_open=reason is None,
                        remote_closed_reason={"code": reason[0], "message": reason[1], "message_en": reason[2]} if reason else None))
    return out
