"""Decree 13/2023: the day end clears citizen_ref and booked names after `personal_data_days` (a moved clock),
and nothing of a card — number, name, birth date, address — lands in the database file, the
instance folder (logs, print previews, print jobs) or any export, after cards were used, dossiers
attached and every report exported."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import Enum, String, Text, or_, select

from motcua import dayend
from motcua.engine import clock
from motcua.models import Base, Office, Ticket
from tests.support.citizen_cards import CITIZENS, HUNG, LAN, MAI, RECEIPT, card_ticket
from tests.support.demo import login
from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 9, 7, 9, 0, tzinfo=HCM)


def refs(db) -> list[str | None]:
    """citizen_ref of every ticket, oldest first."""
    with db.read() as s:
        return [t.citizen_ref for t in s.scalars(select(Ticket).order_by(Ticket.id))]


def test_day_end_forgets_citizens_after_personal_data_days(make_app) -> None:
    app, demos = make_app(config=CITIZENS)
    client, demo, db = app.test_client(), demos["demo"], app.extensions["motcua"].db
    with time_machine.travel(MONDAY, tick=False):
        assert card_ticket(client, demo, LAN, "HT").status_code == 201
    with time_machine.travel(MONDAY + timedelta(days=30), tick=False):
        assert card_ticket(client, demo, HUNG, "HT").status_code == 201
    with db.read() as s:
        office_id = s.scalar(select(Office.id))
    assert all(refs(db))
    # 90 days after the first visit: both kept (the first is exactly 90 days old).
    with time_machine.travel(MONDAY + timedelta(days=90, hours=1), tick=False):
        dayend.close_day(db, office_id, clock.now())
    assert all(refs(db))
    # 91 days: the first is cleared, the second (61 days) kept; the age band stays for reports.
    with time_machine.travel(MONDAY + timedelta(days=91, hours=1), tick=False):
        dayend.close_day(db, office_id, clock.now())
    first, second = refs(db)
    assert first is None and second is not None
    with db.read() as s:
        assert [t.age_band for t in s.scalars(select(Ticket).order_by(Ticket.id))] == ["60+", "18-34"]
    # The first visit no longer links to a new one of the same card.
    with time_machine.travel(MONDAY + timedelta(days=92, hours=2), tick=False):
        assert card_ticket(client, demo, LAN, "HT").status_code == 201
    first, second, third = refs(db)
    assert first is None and third is not None and third != second


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_no_card_data_anywhere(make_app, tmp_path) -> None:
    app, demos = make_app(config=CITIZENS)
    client, demo = app.test_client(), demos["demo"]
    st = app.extensions["motcua"]
    cards = (LAN, HUNG, MAI)
    # Cards at the kiosk, a repeat, a bad scan, a card check; dossiers at the counter; a receipt.
    for card in cards:
        assert card_ticket(client, demo, card, "HT").status_code == 201
        assert client.post("/kiosk/api/card", json={"id_qr": card.qr}, headers=demo.kiosk).status_code == 200
    assert card_ticket(client, demo, LAN, "HT").status_code == 200
    assert client.post("/api/v1/tickets", json={"service": "DD", "id_qr": LAN.qr.replace("|Nữ|", "|Nam|")}, headers=demo.kiosk).status_code == 422
    h = demo.clerk(1).headers
    for code in ("000.00.12.H56-240101-0001", "H56.22.10-230915-0001", "H56.22.10-230915-0002"):
        client.post("/api/v1/counters/1/next", headers=h)
        assert client.post("/api/v1/counters/1/dossiers", json={"code": code}, headers=h).status_code == 200
        client.post("/api/v1/counters/1/start", headers=h)
        client.post("/api/v1/counters/1/finish", headers=h)
    assert client.post("/api/v1/tickets", json={"receipt_qr": RECEIPT}, headers=demo.kiosk).status_code == 201
    # The spooler printed the tickets to PNG previews in the instance folder.
    previews = st.instance / "previews"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(previews.glob("*.png")) if previews.exists() else []) < 4:
        time.sleep(0.2)
    assert len(list(previews.glob("*.png"))) >= 4

    # Every export the manager can take.
    login(client, demo.manager)
    today = clock.business_day(clock.now(), "Asia/Ho_Chi_Minh").isoformat()
    exports = tmp_path / "exports"
    exports.mkdir()
    period = f"from={today}&to={today}"
    urls = [f"/api/v1/reports/tickets?format={f}&{period}" for f in ("json", "csv", "xlsx")]
    urls += [f"/api/v1/reports/summary?format={f}&group_by={g}&{period}" for f in ("json", "csv", "xlsx")
             for g in ("service", "counter", "clerk", "hour")]
    urls += [f"/manager/reports/export.xlsx?{period}", f"/manager/reports?{period}", "/manager/dossiers?code=H56.22.10-230915-0001",
             f"/api/v1/reports/dossiers?format=json&{period}", f"/api/v1/reports/dossiers?format=csv&{period}"]
    for i, url in enumerate(urls):
        r = client.get(url, headers=demo.manager.headers)
        assert r.status_code == 200, (url, r.get_data(as_text=True)[:300])
        (exports / f"{i}.bin").write_bytes(r.data)
    # The per-ticket log carries the dossiers.
    log = client.get(f"/api/v1/reports/tickets?format=json&{period}", headers=demo.manager.headers).get_json()
    assert {"000.00.12.H56-240101-0001", "H56.22.10-230915-0001"} <= {r["dossiers"] for r in log["rows"]}

    app.extensions["motcua.spooler"].stop()
    st.db.dispose()  # everything on disk: the WAL checkpointed into the database file
    searched = _files(st.instance) + _files(exports)
    assert any(p.name == "motcua.db" for p in searched) and any(p.suffix == ".png" for p in searched)
    for path in searched:
        try:
            blob = path.read_bytes()
        except FileNotFoundError:  # SQLite's shared-memory index, removed as the last connection closed
            assert path.name.endswith("-shm"), path
            continue
        texts = [blob]
        if path.suffix in (".bin",) and blob[:2] == b"PK":  # XLSX: a zip of XML files
            import io
            import zipfile

            with zipfile.ZipFile(io.BytesIO(blob)) as z:
                texts += [z.read(n) for n in z.namelist()]
        for card in cards:
            for secret in card.secrets:
                for form in {secret.encode(), secret.encode("utf-16-le")}:
                    assert all(form not in t for t in texts), f"{secret!r} found in {path}"


def _rows_holding(db, text: str) -> list[str]:
    """Every text column of every table, searched for `text`."""
    found = []
    with db.read() as s:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text) and not isinstance(c.type, Enum)]
            if cols and s.execute(select(table.c[cols[0].name]).where(or_(*(c.contains(text) for c in cols))).limit(1)).first():
                found.append(table.name)
    return found


def test_day_end_forgets_booked_names_after_personal_data_days(make_app) -> None:
    app, demos = make_app(config=REPO / "tests" / "data" / "appointments.toml")
    client, demo, db = app.test_client(), demos["demo"], app.extensions["motcua"].db
    name = "Trịnh Thị Thu Trang"
    with time_machine.travel(MONDAY.replace(hour=7), tick=False):
        r = client.post("/api/v1/public/appointments", json={"office": "demo", "service": "HT", "start": "2026-09-07T02:00:00+00:00",
                                                             "name": name, "phone": "0911222333"})
        assert r.status_code == 201, r.json
    with time_machine.travel(MONDAY, tick=False):
        assert client.post("/api/v1/tickets", json={"appointment": r.json["code"]}, headers=demo.kiosk).status_code == 201
    with db.read() as s:
        office_id = s.scalar(select(Office.id))
    # Kept while the clerk may need it, and up to personal_data_days (90) after the day.
    with time_machine.travel(MONDAY + timedelta(days=90, hours=1), tick=False):
        dayend.close_day(db, office_id, clock.now())
    assert _rows_holding(db, name) == ["appointments"]
    with time_machine.travel(MONDAY + timedelta(days=91, hours=1), tick=False):
        dayend.close_day(db, office_id, clock.now())
    assert _rows_holding(db, name) == [] and _rows_holding(db, "Trịnh") == []
    # The booking itself stays for reports, its phone's mask too.
    assert client.get(f"/api/v1/public/appointments/{r.json['public_id']}").json["phone_mask"] == "09xx xxx 333"
