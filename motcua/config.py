"""Loading and validating config.toml.

The file seeds the database on first run; managers change settings at run time in the
database afterwards. Everything is validated with pydantic at start, and a bad file stops the
server with a message naming the key and the problem.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class ConfigError(Exception):
    """A config file that cannot be used; the message names the key and the problem."""


# Dossier codes of the national system (000.00.12.H56-240101-0001) and the plain provincial style
# (H56.22.10-230915-0001): the receiving unit's code, the day received (YYMMDD), a sequence. The
# unit is the procedure area reports group by (a named group `area`; an office's own pattern may
# name another part, or none).
DEFAULT_DOSSIER_PATTERN = r"(?P<area>(?:\d{3}\.\d{2}\.\d{2}\.)?[A-Z]\d{2}(?:\.\d{2}){0,3})-\d{6}-\d{4,6}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_span(text: str) -> tuple[time, time]:
    """'07:30-11:30' -> (07:30, 11:30). '24:00' ends the day as time.max, so a span up to
    midnight still holds its last minute (23:59:30 is inside '00:00-24:00')."""
    m = _SPAN.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' không đúng dạng HH:MM-HH:MM / is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    try:
        start, end = time(h1, m1), (time.max if (h2, m2) == (24, 0) else time(h2, m2))
    except ValueError as exc:
        raise ValueError(f"'{text}': {exc}") from None
    if end <= start:
        raise ValueError(f"'{text}': giờ kết thúc phải sau giờ bắt đầu / end must be after start")
    return start, end


Spans = dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]]


def _check_spans(value: Spans) -> Spans:
    for spans in value.values():
        for span in spans:
            parse_span(span)
    return value


def _check_week_or_list(v: object) -> object:
    """Spans per weekday ({mon = [...]}) or one list for every working day."""
    if isinstance(v, list):
        spans = {"": v}
    elif isinstance(v, dict):
        unknown = [k for k in v if k not in WEEKDAYS]
        if unknown:
            raise ValueError(f"ngày '{unknown[0]}' không có; dùng {', '.join(WEEKDAYS)} / unknown day '{unknown[0]}'")
        spans = v
    else:
        raise ValueError("cần danh sách giờ hoặc bảng theo ngày / a list of spans or a table per weekday is needed")
    for day_spans in spans.values():
        if not isinstance(day_spans, list) or not all(isinstance(x, str) for x in day_spans):
            raise ValueError("mỗi ngày cần danh sách 'HH:MM-HH:MM' / each day needs a list of 'HH:MM-HH:MM'")
        for span in day_spans:
            parse_span(span)
    return v


def week_table(value: dict[str, list[str]] | list[str], working_hours: dict[str, list[str]]) -> dict[str, list[str]]:
    """Spans per weekday from either form: one list stands for every day the office works (every
    day when the office sets no hours)."""
    if isinstance(value, dict):
        return {d: list(v) for d, v in value.items()}
    days = [d for d in WEEKDAYS if working_hours.get(d)] if working_hours else list(WEEKDAYS)
    return {d: list(value) for d in days}


class BookingConfig(_Strict):
    """A field's bookable hours (motcua.booking): `spans` per weekday ({mon = [...]}), or one list
    for every working day; each span is cut into slots of `slot_minutes`."""

    spans: dict[str, list[str]] | list[str]
    slot_minutes: int = Field(default=15, ge=5, le=240)
    # Places per slot; unset: the field's counters × slot_minutes / service_minutes × share %.
    per_slot: int | None = Field(default=None, ge=1, le=200)
    days_ahead: int = Field(default=14, ge=0, le=366)
    close_minutes_before: int = Field(default=60, ge=0, le=10080)
    share: int = Field(default=50, ge=1, le=100)

    _spans = field_validator("spans", mode="before")(lambda v: _check_week_or_list(v))

    @model_validator(mode="after")
    def _fits(self) -> BookingConfig:
        lists = self.spans.values() if isinstance(self.spans, dict) else [self.spans]
        for span in (x for spans in lists for x in spans):
            start, end = parse_span(span)
            if (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute) < self.slot_minutes:
                raise ValueError(f"spans: '{span}' ngắn hơn một lượt {self.slot_minutes} phút / is shorter than one slot of {self.slot_minutes} minutes")
        return self


class FieldConfig(_Strict):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")]
    name: str = Field(min_length=1)
    name_en: str = ""
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{0,3}$")] = ""
    start: int = Field(default=1, ge=0)
    digits: int = Field(default=3, ge=1, le=6)
    daily_quota: int | None = Field(default=None, ge=1)
    service_minutes: float = Field(default=10, gt=0)
    issuing_windows: Spans | None = None
    # Whether a citizen's card may hold a second waiting ticket of this field (None: the office's rule).
    one_ticket_per_citizen: bool | None = None
    # The picture on the kiosk's button, one of the bundled icons (kiosk/README.md); unset: a
    # default chosen from the field's name.
    icon: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")] | None = None
    # Percent of the day's quota remote numbers may take (None: the office's remote_share).
    remote_share: int | None = Field(default=None, ge=0, le=100)
    # Appointments (motcua.booking); unset: the field is not bookable.
    booking: BookingConfig | None = None

    _v = field_validator("issuing_windows")(lambda v: v if v is None else _check_spans(v))


class CounterConfig(_Strict):
    number: int = Field(ge=1)
    name: str = ""
    fields: dict[str, float] = Field(min_length=1)
    # The counter's planned hours, in the shape of the office's working_hours or one list for every
    # working day; unset: the office's hours. They inform the wait estimate; clerks still open and close.
    hours: dict[str, list[str]] | list[str] | None = None

    _hours = field_validator("hours", mode="before")(lambda v: v if v is None else _check_week_or_list(v))

    @field_validator("fields")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        for code, weight in v.items():
            if weight <= 0:
                raise ValueError(f"trọng số của '{code}' phải lớn hơn 0 / weight must be > 0")
        return v


class PriorityGroupConfig(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$")]
    name: str
    name_en: str = ""


class PrinterConfig(_Strict):
    name: str = Field(min_length=1)
    connection: Literal["network", "usb", "serial", "file", "cups", "lp", "preview"]
    target: str = ""
    profile: str = "default"
    width_dots: Literal[384, 576] = 576
    native_qr: bool = False
    timeout: float = Field(default=4, gt=0, le=30)


class DeviceConfig(_Strict):
    name: str = Field(min_length=1)
    kind: Literal["kiosk", "display", "rating", "counter_display"]
    printer: str | None = None
    backup_printer: str | None = None
    counter: int | None = None
    voice: bool = False  # kiosks: spoken guidance (off unless the office turns it on per kiosk)


NOTIFY_EVENTS = ("near", "called", "booked", "reminder")


class NotifierConfig(_Strict):
    """A gateway the office contracted for SMS or Zalo ZNS (`[[offices.notifiers]]`): the server
    POSTs each message to `url`, signed with `secret` (motcua.notify.webhook)."""

    kind: Literal["webhook"]
    url: str
    secret: str
    events: list[Literal["near", "called", "booked", "reminder"]] = Field(default_factory=lambda: list(NOTIFY_EVENTS), min_length=1)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+", v):
            raise ValueError(f"'{v}': cần địa chỉ http:// hoặc https:// / an http:// or https:// address is needed")
        return v

    @field_validator("secret")
    @classmethod
    def _secret(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("cần khoá bí mật để ký tin nhắn / a secret to sign the messages is needed")
        return v

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[str]) -> list[str]:
        _unique(v, "events")
        return v


class OfficeConfig(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")]
    name: str = Field(min_length=1)
    address: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    working_hours: Spans = Field(default_factory=dict)
    issuing_windows: Spans = Field(default_factory=dict)
    holidays: list[date] = Field(default_factory=list)
    priority_ratio: int = Field(default=2, ge=1, le=20)
    transfer_position: Literal["front", "back"] = "front"
    # A no-show is refused until the call is this old: a stray key right after "next" never marks
    # a citizen absent before they could reach the counter.
    no_show_min_seconds: int = Field(default=5, ge=0, le=300)
    announcement_template: str = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
    announcement_repeat: int = Field(default=2, ge=1, le=3)
    kiosk_reset_seconds: int = Field(default=20, ge=5, le=300)
    print_max_age_seconds: int = Field(default=60, ge=5, le=3600)
    rating_seconds: int = Field(default=30, ge=5, le=300)
    wait_alert_minutes: int = Field(default=30, ge=1)
    wait_target_minutes: int = Field(default=15, ge=1, le=240)  # staffing advice: the p90 wait to keep under
    # Best first; a rating in the last `rating_low_count` levels asks the citizen why.
    rating_scale: list[str] = Field(default=["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"], min_length=2, max_length=7)
    rating_scale_en: list[str] = Field(default=["Very satisfied", "Satisfied", "Neutral", "Dissatisfied"], min_length=2, max_length=7)
    rating_low_count: int = Field(default=1, ge=0, le=3)
    # Citizens' cards and dossiers (motcua.identity, motcua.engine.dossiers).
    elderly_age: int = Field(default=60, ge=50, le=100)
    one_ticket_per_citizen: bool = True
    dossier_pattern: str = DEFAULT_DOSSIER_PATTERN
    results_service: str | None = None
    personal_data_days: int = Field(default=90, ge=1, le=3650)
    # Remote numbers from a phone (/q/<office>, motcua.engine.remote).
    remote_enabled: bool = False
    remote_share: int = Field(default=50, ge=0, le=100)  # percent of a field's daily quota
    remote_phone_required: bool = True
    remote_per_phone_per_day: int = Field(default=1, ge=1, le=20)
    remote_check_in: bool = False  # counters skip a remote number until the kiosk checks it in
    check_in_grace_minutes: int = Field(default=15, ge=1, le=240)
    # Appointments: the window [start - early, start + late] in which a checked-in appointment is
    # called before walk-ins, and open bookings per phone, field and day.
    appointment_early_minutes: int = Field(default=15, ge=0, le=240)
    appointment_late_minutes: int = Field(default=10, ge=0, le=240)
    booking_per_phone: int = Field(default=1, ge=1, le=20)
    # Notifications (motcua.notify): "near" when this many people or fewer remain ahead, once per
    # threshold; gateways for SMS/Zalo; appointment reminders this long before the slot.
    notify_ahead: list[int] = Field(default=[5, 2], max_length=5)
    reminder_minutes: int = Field(default=60, ge=5, le=24 * 60)
    notifiers: list[NotifierConfig] = Field(default_factory=list)
    # Sites allowed to embed the public wait board in an <iframe> (CSP frame-ancestors sources).
    board_frame_ancestors: list[Annotated[str, Field(pattern=r"^(https?://)?(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")]] = Field(default_factory=list)
    fields: list[FieldConfig] = Field(min_length=1)
    counters: list[CounterConfig] = Field(default_factory=list)
    priority_groups: list[PriorityGroupConfig] = Field(default_factory=list)
    printers: list[PrinterConfig] = Field(default_factory=list)
    devices: list[DeviceConfig] = Field(default_factory=list)

    _spans = field_validator("working_hours", "issuing_windows")(_check_spans)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"múi giờ không tồn tại / unknown time zone '{v}'") from None
        return v

    @field_validator("notify_ahead")
    @classmethod
    def _ahead(cls, v: list[int]) -> list[int]:
        if any(not 0 <= n <= 50 for n in v):
            raise ValueError("mỗi ngưỡng từ 0 đến 50 người / each threshold is 0 to 50 people")
        _unique(v, "notify_ahead")
        return sorted(v, reverse=True)

    @field_validator("dossier_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"biểu thức mã hồ sơ không hợp lệ / invalid dossier pattern: {exc}") from None
        return v

    @model_validator(mode="after")
    def _references(self) -> OfficeConfig:
        if self.results_service is not None and self.results_service not in [f.code for f in self.fields]:
            raise ValueError(f"results_service: lĩnh vực '{self.results_service}' không có / unknown field '{self.results_service}'")
        if len(self.rating_scale) != len(self.rating_scale_en):
            raise ValueError("rating_scale và rating_scale_en phải cùng số mức / rating_scale and rating_scale_en need the same length")
        codes = [f.code for f in self.fields]
        _unique(codes, "fields.code")
        _unique([c.number for c in self.counters], "counters.number")
        _unique([p.name for p in self.printers], "printers.name")
        _unique([d.name for d in self.devices], "devices.name")
        _unique([g.code for g in self.priority_groups], "priority_groups.code")
        series = [(f.prefix, f.start) for f in self.fields]
        _unique([f"{p}{s}" for p, s in series], "fields.prefix+start")
        for c in self.counters:
            for code in c.fields:
                if code not in codes:
                    raise ValueError(f"quầy {c.number}: lĩnh vực '{code}' không có / counter {c.number}: unknown field '{code}'")
        printers = {p.name for p in self.printers}
        numbers = {c.number for c in self.counters}
        for d in self.devices:
            for p in (d.printer, d.backup_printer):
                if p and p not in printers:
                    raise ValueError(f"thiết bị '{d.name}': máy in '{p}' không có / device '{d.name}': unknown printer '{p}'")
            if d.counter is not None and d.counter not in numbers:
                raise ValueError(f"thiết bị '{d.name}': quầy {d.counter} không có / unknown counter {d.counter}")
        return self


def _unique(values: list, key: str) -> None:
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{key} bị trùng: '{v}' / duplicate {key}: '{v}'")
        seen.add(v)


# The vendors' push services browsers subscribe with: Chrome (FCM), Firefox, Safari, Edge.
PUSH_SERVICES = ("https://fcm.googleapis.com", "https://updates.push.services.mozilla.com", "https://web.push.apple.com",
                 "https://*.notify.windows.com")
_PUSH_ORIGIN = re.compile(r"^(https://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|http://(127\.0\.0\.1|\[::1\]|localhost))(:\d{1,5})?$")


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str | None = None
    redis_url: str | None = None
    public_url: str | None = None
    language: Literal["vi", "en"] = "vi"
    # Seconds any wait on the database may last before the request answers 503 (motcua.db.Timeouts).
    database_connect_timeout: float = Field(default=3, gt=0, le=600)
    database_statement_timeout: float = Field(default=5, gt=0, le=3600)
    database_lock_timeout: float = Field(default=3, gt=0, le=600)
    # Addresses (IPs or CIDR ranges) of the proxies whose X-Forwarded-* headers are believed, with
    # MOTCUA_PROXIES set; a request from anywhere else is taken as it came (motcua.production).
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    # Web Push (motcua.notify.push): the push services a citizen's browser may name. The endpoint
    # comes from the browser, so the server posts only to these origins: https, a "*." for one
    # vendor's subdomains, plain http only for loopback (a push service on this machine).
    push_services: list[str] = Field(default_factory=lambda: list(PUSH_SERVICES))
    # VAPID's "sub": how a push service reaches whoever runs the server (mailto: or https:);
    # default: public_url, else a mailto: on this host.
    push_contact: Annotated[str, Field(pattern=r"^(mailto:\S+@\S+|https://\S+)$")] | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        return [str(parse_network(n)) for n in v]

    @field_validator("push_services")
    @classmethod
    def _push_origins(cls, v: list[str]) -> list[str]:
        for origin in v:
            if not _PUSH_ORIGIN.match(origin):
                raise ValueError(f"'{origin}': cần dạng https://máy-chủ[:cổng] (http chỉ cho 127.0.0.1, [::1], localhost) / "
                                 "an origin https://host[:port] is needed (http only for 127.0.0.1, [::1] or localhost)")
        return [o.lower() for o in v]


class PrinterTargetsConfig(_Strict):
    """Where printers may print, whoever configures them (motcua.printer_targets enforces it).

    Paths are matched once symlinks are followed, a ``*`` stays inside one path segment; the
    instance folder and the config file are never writable through a printer.
    """

    device_paths: tuple[str, ...] = ("/dev/usb/lp*", "/dev/ttyUSB*", "/dev/ttyACM*", "/dev/ttyS*")
    preview_folder: str = "previews"  # inside the instance folder
    # Loopback and the private LAN ranges; never link-local (169.254.169.254 answers cloud metadata).
    networks: tuple[IPvAnyNetwork, ...] = tuple(ipaddress.ip_network(n) for n in (
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"))
    # Raw printing (JetDirect 9100, and 9101-9102 of three-port print servers) and LPD.
    ports: tuple[int | Annotated[str, Field(pattern=r"^\d{1,5}-\d{1,5}$")], ...] = ("9100-9102", 515)
    cups_queues: tuple[str, ...] = ("*",)  # queue name patterns; queues exist only where an admin set them up
    usb_ids: tuple[str, ...] = ("*:*",)  # "vvvv:pppp" patterns in hex

    @field_validator("device_paths")
    @classmethod
    def _absolute(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in v:
            if not pattern.startswith("/") or ".." in pattern.split("/"):
                raise ValueError(f"'{pattern}': cần đường dẫn tuyệt đối, không có '..' / an absolute path without '..' is needed")
        return v

    @field_validator("preview_folder")
    @classmethod
    def _inside(cls, v: str) -> str:
        parts = Path(v).parts
        if not parts or Path(v).is_absolute() or ".." in parts or v.strip() in ("", "."):
            raise ValueError(f"'{v}': thư mục con của thư mục instance / a folder inside the instance folder")
        return v

    @field_validator("ports")
    @classmethod
    def _ports(cls, v: tuple[int | str, ...]) -> tuple[int | str, ...]:
        for lo, hi in _port_ranges(v):
            if not 0 < lo <= hi < 65536:
                raise ValueError(f"cổng không hợp lệ / bad port range {lo}-{hi}")
        return v

    def port_ranges(self) -> tuple[tuple[int, int], ...]:
        return _port_ranges(self.ports)


def _port_ranges(ports: tuple[int | str, ...]) -> tuple[tuple[int, int], ...]:
    ranges = []
    for p in ports:
        lo, _, hi = str(p).partition("-")
        ranges.append((int(lo), int(hi or lo)))
    return tuple(ranges)


class Config(_Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    printer_targets: PrinterTargetsConfig = Field(default_factory=PrinterTargetsConfig)
    offices: list[OfficeConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _offices(self) -> Config:
        _unique([o.code for o in self.offices], "offices.code")
        return self


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"'{text}' không phải địa chỉ IP hoặc dải CIDR / is not an IP address or CIDR range") from None


def _format_error(path: Path, exc: ValidationError) -> str:
    lines = [f"Tệp cấu hình {path} không hợp lệ / invalid config file {path}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(gốc / root)"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  - {key}: {msg}")
    return "\n".join(lines)


def load_config(path: str | os.PathLike | None = None) -> tuple[Config, Path]:
    """Read and validate the config file (MOTCUA_CONFIG, else ./config.toml)."""
    path = Path(path or os.environ.get("MOTCUA_CONFIG") or "config.toml").resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Không tìm thấy tệp cấu hình / config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Tệp cấu hình {path} sai cú pháp TOML / invalid TOML: {exc}") from None
    try:
        return Config.model_validate(raw), path
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from None


def effective_settings(config: Config, instance: Path) -> dict:
    """Server settings with environment overrides applied (env wins over the file)."""
    s = config.server
    db_url = os.environ.get("DATABASE_URL") or s.database_url or f"sqlite:///{instance / 'motcua.db'}"
    return {
        "host": os.environ.get("MOTCUA_HOST") or s.host,
        "port": int(os.environ.get("MOTCUA_PORT") or s.port),
        "database_url": normalise_db_url(db_url),
        "redis_url": os.environ.get("REDIS_URL") or s.redis_url,
        "public_url": os.environ.get("MOTCUA_PUBLIC_URL") or s.public_url,
        "trusted_proxies": _trusted_proxies(os.environ.get("MOTCUA_TRUSTED_PROXIES"), s.trusted_proxies),
        # Under gunicorn (`serve --prod`, motcua.wsgi): nothing the client sends may name this server.
        "production": os.environ.get("MOTCUA_PRODUCTION") == "1",
        "database_timeouts": {
            "connect": _seconds("MOTCUA_DB_CONNECT_TIMEOUT", s.database_connect_timeout),
            "statement": _seconds("MOTCUA_DB_STATEMENT_TIMEOUT", s.database_statement_timeout),
            "lock": _seconds("MOTCUA_DB_LOCK_TIMEOUT", s.database_lock_timeout),
        },
    }


def _trusted_proxies(env: str | None, configured: list[str]) -> list[str]:
    if env is None:
        return configured
    try:
        return [str(parse_network(n)) for n in env.split(",") if n.strip()]
    except ValueError as exc:
        raise ConfigError(f"MOTCUA_TRUSTED_PROXIES: {exc}") from None


def _seconds(env: str, default: float) -> float:
    raw = os.environ.get(env)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not 0 < value <= 3600:
        raise ConfigError(f"{env} phải là số giây lớn hơn 0 / must be a number of seconds above 0: {raw!r}")
    return value


def normalise_db_url(url: str) -> str:
    """postgres:// and postgresql:// both mean psycopg 3 here."""
    for old in ("postgres://", "postgresql://"):
        if url.startswith(old):
            return "postgresql+psycopg://" + url[len(old):]
    return url


def instance_path() -> Path:
    path = Path(os.environ.get("MOTCUA_INSTANCE") or "instance").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
