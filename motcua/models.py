"""Typed SQLAlchemy models.

Tickets and their queue legs carry the current state; `TicketEvent` is the append-only log of
every transition (reports and audits read it); nothing is deleted at day end. A ticket has one
leg per queue it joined: a transfer closes a leg and opens another, so waiting time is measured
per leg (first call − joining the queue) and service time per leg (finish − start).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (SQLite has no time zones), always returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Role(str, enum.Enum):
    clerk = "clerk"
    manager = "manager"
    admin = "admin"


class DeviceKind(str, enum.Enum):
    kiosk = "kiosk"
    display = "display"
    rating = "rating"
    counter_display = "counter_display"


class TicketStatus(str, enum.Enum):
    waiting = "waiting"
    called = "called"
    serving = "serving"
    done = "done"
    no_show = "no_show"
    cancelled = "cancelled"


OPEN_STATUSES = (TicketStatus.waiting, TicketStatus.called, TicketStatus.serving)


class CounterStatus(str, enum.Enum):
    closed = "closed"
    open = "open"
    paused = "paused"


def _enum(e: type[enum.Enum]) -> Any:
    from sqlalchemy import Enum

    return Enum(e, native_enum=False, length=16, validate_strings=True)


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    # Run-time settings (windows, holidays, ratio, templates...), seeded from config.toml.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Bumped in the same transaction as every change that displays must see.
    event_seq: Mapped[int] = mapped_column(Integer, default=0)

    services: Mapped[list[Service]] = relationship(back_populates="office", order_by="Service.sort_order")
    counters: Mapped[list[Counter]] = relationship(back_populates="office", order_by="Counter.number")


class Service(Base):
    """A field (lĩnh vực) with its own ticket series."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("office_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(3), default="")
    start_number: Mapped[int] = mapped_column(Integer, default=1)
    digits: Mapped[int] = mapped_column(Integer, default=3)
    daily_quota: Mapped[int | None] = mapped_column(Integer)
    service_minutes: Mapped[float] = mapped_column(Float, default=10)
    issuing_windows: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    office: Mapped[Office] = relationship(back_populates="services")

    def format_number(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.digits}d}"


class Counter(Base):
    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("office_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[CounterStatus] = mapped_column(_enum(CounterStatus), default=CounterStatus.closed)
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    current_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", use_alter=True))
    # Consecutive priority calls, so ordinary tickets get their turn (the priority ratio).
    priority_streak: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Planned hours per weekday ({"mon": ["07:30-11:30"]}); None: the office's working hours.
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    office: Mapped[Office] = relationship(back_populates="counters")
    # Ordered, so SQLite and PostgreSQL list a counter's fields alike (engine.ticket_sql.SERVED too).
    services: Mapped[list[CounterService]] = relationship(cascade="all, delete-orphan", order_by="CounterService.service_id")
    clerk: Mapped[User | None] = relationship(foreign_keys=[clerk_id])
    current_ticket: Mapped[Ticket | None] = relationship(foreign_keys=[current_ticket_id])

    @property
    def label(self) -> str:
        return self.name or f"Quầy {self.number}"


class CounterService(Base):
    __tablename__ = "counter_services"

    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    weight: Mapped[float] = mapped_column(Float, default=1)

    service: Mapped[Service] = relationship()


class PriorityGroup(Base):
    __tablename__ = "priority_groups"
    __table_args__ = (UniqueConstraint("office_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL office: an admin of every office on this server.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(_enum(Role))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # Bumped on sign-out, password, role, office or counter change and deactivation: a browser
    # session signed in under an older value is refused (motcua.sessions), copied cookies included.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id])


class ApiToken(Base):
    """A bearer token for a user (scripts, API clients); only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Printer(Base):
    __tablename__ = "printers"
    __table_args__ = (UniqueConstraint("office_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    name: Mapped[str] = mapped_column(String(100))
    connection: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(300), default="")
    profile: Mapped[str] = mapped_column(String(64), default="default")
    width_dots: Mapped[int] = mapped_column(Integer, default=576)
    native_qr: Mapped[bool] = mapped_column(Boolean, default=False)
    timeout: Mapped[float] = mapped_column(Float, default=4)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Last health check, written by the spooler.
    last_status: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_seen_at: Mapped[datetime | None]


class Device(Base):
    """A kiosk, display, rating pad or counter display; only its token's SHA-256 is stored."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("office_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[DeviceKind] = mapped_column(_enum(DeviceKind))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    backup_printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    counter: Mapped[Counter | None] = relationship()
    printer: Mapped[Printer | None] = relationship(foreign_keys=[printer_id])
    backup_printer: Mapped[Printer | None] = relationship(foreign_keys=[backup_printer_id])


class NumberCounter(Base):
    """The last number issued per (series, business day): gap-free numbering's single row."""

    __tablename__ = "number_counters"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class WaitingCount(Base):
    """Waiting tickets per field and business day, and how many of them are priority tickets.
    Triggers on `tickets` keep it (migration 7d2f4c1a9e3b), in the transaction of every change
    of status, field or priority, however the change is written: issuing and every display's
    field list read one row instead of counting a queue that may run to thousands."""

    __tablename__ = "waiting_counts"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    waiting: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("series_id", "business_day", "number"),
        UniqueConstraint("office_id", "idempotency_key"),
        Index("ix_tickets_queue", "office_id", "business_day", "status", "service_id", "queue_key"),
        # "The same card the same day": a citizen's tickets of a day, by the card's keyed hash.
        Index("ix_tickets_citizen", "office_id", "business_day", "citizen_ref"),
        # A phone's remote numbers of a day (the per-phone limit), and the kiosk's check-in code.
        Index("ix_tickets_phone", "office_id", "business_day", "phone_ref"),
        Index("ix_tickets_check_in", "office_id", "business_day", "check_in_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    # The series the number belongs to; `service_id` changes on a transfer, this never does.
    series_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    business_day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(16))
    priority_group_id: Mapped[int | None] = mapped_column(ForeignKey("priority_groups.id"))
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus))
    # Order within the current queue: epoch seconds of joining; a transfer to the front
    # takes a key just before the head.
    queue_key: Mapped[float] = mapped_column(Float)
    issued_at: Mapped[datetime]
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What the citizen was told at issue, so reports can measure the estimates.
    waiting_ahead: Mapped[int] = mapped_column(Integer, default=0)
    eta_low: Mapped[int | None] = mapped_column(Integer)
    eta_high: Mapped[int | None] = mapped_column(Integer)
    # From a citizen's ID card (motcua.identity): HMAC of the number, never the number; cleared
    # after `personal_data_days` by the day end. The age band stays for reports.
    citizen_ref: Mapped[str | None] = mapped_column(String(64))
    age_band: Mapped[str | None] = mapped_column(String(8))
    # Where the ticket came from: "kiosk" (or staff), "remote" (a phone, engine.remote), "appointment".
    source: Mapped[str] = mapped_column(String(16), default="kiosk", server_default="kiosk")
    # A remote number's phone: HMAC with the instance secret, and the mask shown ("09xx xxx 123").
    phone_ref: Mapped[str | None] = mapped_column(String(64))
    phone_mask: Mapped[str | None] = mapped_column(String(16))
    # The number itself, encrypted with a key from the instance secret, only while an office's SMS/Zalo
    # gateway may need it (motcua.notify): cleared when the ticket ends and by the day end.
    phone_sealed: Mapped[str | None] = mapped_column(String(200))
    # With the office's remote_check_in: counters skip the ticket until the kiosk checks it in
    # (its 6-character code or its status page's QR); it expires at check_in_due_at, set once a
    # counter has passed it.
    check_in_code: Mapped[str | None] = mapped_column(String(8))
    awaiting_check_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    checked_in_at: Mapped[datetime | None]
    check_in_due_at: Mapped[datetime | None]
    # An appointment's ticket (motcua.booking): its booking (no FK here: the booking's row holds
    # the FK to its ticket), and when the appointment class opens for it (epoch seconds; NULL: a walk-in).
    appointment_id: Mapped[int | None] = mapped_column(Integer)
    appointment_from: Mapped[float | None] = mapped_column(Float)

    service: Mapped[Service] = relationship(foreign_keys=[service_id])
    series: Mapped[Service] = relationship(foreign_keys=[series_id])
    priority_group: Mapped[PriorityGroup | None] = relationship()
    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id])
    legs: Mapped[list[TicketLeg]] = relationship(order_by="TicketLeg.seq", back_populates="ticket")

    @property
    def leg(self) -> TicketLeg:
        return self.legs[-1]


class TicketLeg(Base):
    """One stay in one field's queue: joined → called → started → finished (or left)."""

    __tablename__ = "ticket_legs"
    __table_args__ = (
        UniqueConstraint("ticket_id", "seq"),
        Index("ix_ticket_legs_report", "office_id", "business_day", "service_id"),
        # Reports: the calls out of turn of a date range, without scanning every leg.
        Index("ix_ticket_legs_out_of_order", "office_id", "out_of_order", "business_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    business_day: Mapped[date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    queued_at: Mapped[datetime]
    called_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    out_of_order: Mapped[bool] = mapped_column(Boolean, default=False)
    # served | no_show | transferred | cancelled; NULL while the leg is open.
    outcome: Mapped[str | None] = mapped_column(String(16))

    ticket: Mapped[Ticket] = relationship(back_populates="legs")


class TicketEvent(Base):
    """Append-only: every transition with time, actor, counter and reason."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_office_at", "office_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CounterEvent(Base):
    """Append-only: a counter opened, paused (with reason), resumed or closed."""

    __tablename__ = "counter_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)


class PrintJob(Base):
    __tablename__ = "print_jobs"
    # Dashboard: the jobs that failed in the last minutes.
    __table_args__ = (Index("ix_print_jobs_status_updated_at", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    printer_id: Mapped[int] = mapped_column(ForeignKey("printers.id"))
    backup_printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    # pending | printing | printed | failed | dropped
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    printed_at: Mapped[datetime | None]
    printed_on_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))

    ticket: Mapped[Ticket] = relationship()
    printer: Mapped[Printer] = relationship(foreign_keys=[printer_id])
    backup_printer: Mapped[Printer | None] = relationship(foreign_keys=[backup_printer_id])


class Rating(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    leg_id: Mapped[int] = mapped_column(ForeignKey("ticket_legs.id"), index=True)  # reports join legs to ratings
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int] = mapped_column(Integer)
    scale: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    business_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]


class AuditLog(Base):
    """Configuration changes: who changed what, when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_office_at", "office_id", "at"),)  # the audit page, newest first

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Dossier(Base):
    """A dossier (hồ sơ) a ticket came for: attached by the clerk at the counter, or carried by a
    ticket issued from a receipt's QR for the results desk. `area` is the procedure area the
    office's dossier pattern found in the code, if any; `returned_at` marks the result handed back."""

    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("ticket_id", "code"),
        Index("ix_dossiers_office_code", "office_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    # The queue leg it was attached in (ratings and reports join legs).
    leg_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_legs.id"))
    code: Mapped[str] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # counter | receipt
    attached_at: Mapped[datetime]
    attached_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    returned_at: Mapped[datetime | None]
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
