"""A device's "last seen" time (kiosk, display, rating pad, counter display), written here and
nowhere else. The dashboard reports a device offline when it is old; every request a device
makes and every minute its socket stays open count as seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from motcua.engine import clock
from motcua.models import Device
from motcua.prepared import Prepared

_devices = Device.__table__
_SEEN_PRINTERS = Prepared(update(_devices).where(_devices.c.id == bindparam("device_id")).values(last_seen_at=bindparam("now"))
                          .returning(_devices.c.printer_id, _devices.c.backup_printer_id))


def mark_seen(session: Session, *device_ids: int, now: datetime | None = None) -> None:
    """One UPDATE for all the devices given; unknown ids change nothing."""
    if device_ids:
        session.execute(update(Device).where(Device.id.in_(sorted(set(device_ids)))).values(last_seen_at=now or clock.now()))


def mark_seen_and_read_printers(conn: Connection, device_id: int, now: datetime) -> Row | None:
    """Issuing's one statement for its kiosk, on the hot path: mark it seen and answer the
    (printer_id, backup_printer_id) it prints on; None when there is no such device."""
    return _SEEN_PRINTERS.first(conn, {"device_id": device_id, "now": now})
