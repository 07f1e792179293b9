"""Booking settings: a field's `booking` table (config.toml `fields[].booking`, kept in the office's
settings as `booking_fields`) and the office's appointment keys."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from motcua.config import WEEKDAYS
from motcua.engine import clock


@dataclass(frozen=True)
class FieldBooking:
    """One bookable field. `spans` per weekday; a plain list means every working day."""

    spans: dict[str, list[str]] | list[str]
    slot_minutes: int = 15
    per_slot: int | None = None
    days_ahead: int = 14
    close_minutes_before: int = 60
    share: int = 50

    @classmethod
    def of(cls, table: dict) -> FieldBooking:
        return cls(**{k: table[k] for k in cls.__dataclass_fields__ if k in table})

    def spans_on(self, day: date, office_settings: dict) -> list[str]:
        """The bookable spans of that day: none on a holiday or a day the office does not work."""
        if day.isoformat() in set(office_settings.get("holidays") or []):
            return []
        working = clock.spans_for(office_settings.get("working_hours"), day)
        if working is not None and not working:
            return []
        if isinstance(self.spans, list):
            return list(self.spans)
        return list(self.spans.get(WEEKDAYS[day.weekday()], []))

    def places(self, weights: list[tuple[float, float]], service_minutes: float) -> int:
        """Places per slot: `per_slot`, else the counters serving the field (each by the field's
        share of its weights, given as (this field's weight, all its fields' weights)) times the
        citizens one counter serves in a slot, times the bookable share; at least one."""
        if self.per_slot is not None:
            return self.per_slot
        counters = sum(w / total for w, total in weights if total > 0)
        return max(1, math.floor(counters * self.slot_minutes / max(service_minutes, 0.1) * self.share / 100))


@dataclass(frozen=True)
class OfficeBooking:
    early_minutes: int
    late_minutes: int
    per_phone: int

    @classmethod
    def of(cls, settings: dict | None) -> OfficeBooking:
        s = settings or {}
        return cls(int(s.get("appointment_early_minutes", 15)), int(s.get("appointment_late_minutes", 10)), int(s.get("booking_per_phone", 1)))


def field_booking(office_settings: dict | None, service_code: str) -> FieldBooking | None:
    """The field's booking settings; None when it is not bookable."""
    table = ((office_settings or {}).get("booking_fields") or {}).get(service_code)
    return FieldBooking.of(table) if table else None
