"""Decree 13/2023: a remote number's phone is kept only as a keyed hash and a mask ("09xx xxx 123").
Nothing of the number in clear — in any common spelling — lands in the database file, the instance
folder, the server's log or any report export, after remote numbers were taken, refused for the
day's limit, checked, served and every report exported."""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from motcua.models import Ticket
from tests.support.demo import login
from tests.support.env import REPO

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 9, 7, 9, 0, tzinfo=HCM)
REMOTE = REPO / "tests" / "data" / "remote.toml"
PHONES = ("0912345678", "0987654321", "0356789012")


def spellings(phone: str) -> set[bytes]:
    """The number as it was typed or could be stored: plain, +84, 84, and without the leading 0."""
    forms = {phone, "+84" + phone[1:], "84" + phone[1:], phone[1:], f"{phone[:4]} {phone[4:7]} {phone[7:]}"}
    return {f.encode(enc) for f in forms for enc in ("utf-8", "utf-16-le")}


def test_no_phone_in_clear_anywhere(make_app, tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    app, demos = make_app(config=REMOTE)
    client, demo, st = app.test_client(), demos["demo"], app.extensions["motcua"]
    with time_machine.travel(MONDAY, tick=True):
        for phone in PHONES:
            r = client.post("/api/v1/public/tickets", json={"office": "demo", "service": "HT", "phone": "+84" + phone[1:]})
            assert r.status_code == 201 and r.json["phone_mask"] == f"{phone[:2]}xx xxx {phone[-3:]}"
            again = client.post("/api/v1/public/tickets", json={"office": "demo", "service": "CT", "phone": phone})
            assert again.status_code == 409
            status = client.get(f"/t/{r.json['public_id']}").get_data(as_text=True)
            assert f"{phone[:2]}xx xxx {phone[-3:]}" in status
        h = demo.clerk(1).headers
        for _ in PHONES:
            client.post("/api/v1/counters/1/next", headers=h)
            client.post("/api/v1/counters/1/start", headers=h)
            client.post("/api/v1/counters/1/finish", headers=h)
        with st.db.read() as s:
            rows = s.scalars(select(Ticket).order_by(Ticket.id)).all()
            assert all(t.source == "remote" and len(t.phone_ref) == 64 for t in rows)
            assert len({t.phone_ref for t in rows}) == len(PHONES)
        login(client, demo.manager)
        exports = tmp_path / "exports"
        exports.mkdir()
        period = "from=2026-09-07&to=2026-09-07"
        urls = [f"/api/v1/reports/tickets?format={f}&{period}" for f in ("json", "csv", "xlsx")]
        urls += [f"/api/v1/reports/summary?format={f}&group_by={g}&{period}" for f in ("json", "csv", "xlsx")
                 for g in ("service", "counter", "clerk", "hour")]
        urls += [f"/manager/reports/export.xlsx?{period}", f"/manager/reports?{period}"]
        for i, url in enumerate(urls):
            r = client.get(url, headers=demo.manager.headers)
            assert r.status_code == 200, (url, r.get_data(as_text=True)[:300])
            (exports / f"{i}.bin").write_bytes(r.data)
    (tmp_path / "server.log").write_text("\n".join(rec.getMessage() for rec in caplog.records), encoding="utf-8")
    st.db.dispose()  # everything on disk: the WAL checkpointed into the database file
    searched = [p for folder in (st.instance, exports) for p in Path(folder).rglob("*") if p.is_file()] + [tmp_path / "server.log"]
    assert any(p.name == "motcua.db" for p in searched)
    for path in searched:
        try:
            blob = path.read_bytes()
        except FileNotFoundError:  # SQLite's shared-memory index, removed as the last connection closed
            continue
        texts = [blob]
        if blob[:2] == b"PK":  # XLSX: a zip of XML files
            with zipfile.ZipFile(io.BytesIO(blob)) as z:
                texts += [z.read(n) for n in z.namelist()]
        for phone in PHONES:
            for form in spellings(phone):
                assert all(form not in t for t in texts), f"{form!r} found in {path}"


def test_a_gateway_gets_the_number_and_nothing_keeps_it_once_the_ticket_ends(make_app, tmp_path, caplog) -> None:
    """With an SMS gateway the number is kept sealed while the ticket is open, handed to the
    gateway only, and gone from the ticket once it ends (served, cancelled); still nowhere in clear."""
    from motcua import notify
    from tests.support.gateway import notify_config, start_gateway

    caplog.set_level(logging.DEBUG)
    gateway = start_gateway()
    try:
        app, demos = make_app(config=notify_config(tmp_path, gateway.url))
        client, demo, st = app.test_client(), demos["demo"], app.extensions["motcua"]
        with time_machine.travel(MONDAY, tick=True):
            ids = [client.post("/api/v1/public/tickets", json={"office": "demo", "service": "HT", "phone": p}).json["public_id"]
                   for p in PHONES]
            with st.db.read() as s:
                assert all(t.phone_sealed for t in s.scalars(select(Ticket)))
            h = demo.clerk(1).headers
            client.post("/api/v1/counters/1/next", headers=h)
            notify.run_once(app)  # "called" for the first (the others were never more than 2 ahead: no "near")
            client.post("/api/v1/counters/1/start", headers=h)
            client.post("/api/v1/counters/1/finish", headers=h)
            assert client.post(f"/api/v1/tickets/{ids[1]}/cancel", json={}).status_code == 200
            notify.run_once(app)
        assert [(r.body["event"], r.body["phone"]) for r in gateway.accepted] == [("called", PHONES[0])]
        with st.db.read() as s:
            sealed = [t.phone_sealed for t in s.scalars(select(Ticket).order_by(Ticket.id))]
        assert sealed[0] is None and sealed[1] is None and sealed[2] is not None  # the third still waits
    finally:
        gateway.close()
    (tmp_path / "server.log").write_text("\n".join(rec.getMessage() for rec in caplog.records), encoding="utf-8")
    st.db.dispose()
    for path in [p for p in Path(st.instance).rglob("*") if p.is_file()] + [tmp_path / "server.log"]:
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            continue
        for phone in PHONES:
            assert all(form not in blob for form in spellings(phone)), f"{phone} found in {path}"
