"""Tickets from a citizen's card and from a dossier receipt, and dossier codes at the counter,
through POST /api/v1/tickets, /kiosk/api/card and /api/v1/counters/<n>/dossiers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from motcua.models import Dossier, Ticket
from tests.support.api import error_of
from tests.support.citizen_cards import CITIZENS, HUNG, LAN, RECEIPT, card_ticket


@pytest.fixture
def setup(make_app):
    app, demos = make_app(config=CITIZENS)
    return app, app.test_client(), demos["demo"]


def test_an_elderly_card_gets_the_elderly_group_and_only_a_greeting_back(setup) -> None:
    app, client, demo = setup
    r = card_ticket(client, demo, LAN)
    assert r.status_code == 201, r.get_data(as_text=True)
    t = r.get_json()
    assert t["priority"] == "elderly" and t["citizen"] == {"given_name": "Lan", "age_band": "60+"} and t["existing"] is False
    body = r.get_data(as_text=True)
    for secret in LAN.secrets + ["Nguyễn"]:
        assert secret not in body
    with app.extensions["motcua"].db.read() as s:
        row = s.get(Ticket, t["id"])
        assert row.age_band == "60+" and len(row.citizen_ref) == 64 and LAN.number not in row.citizen_ref


def test_elderly_may_decline_and_a_younger_card_may_not_ask(setup) -> None:
    _, client, demo = setup
    assert card_ticket(client, demo, LAN, priority="").get_json()["priority"] is None
    err = error_of(card_ticket(client, demo, HUNG, priority="elderly"), 422)
    assert err["code"] == "priority_not_eligible"
    t = card_ticket(client, demo, HUNG, priority="disability").get_json()
    assert t["priority"] == "disability" and t["citizen"] == {"given_name": "Hùng", "age_band": "18-34"}


def test_an_unreadable_card_is_refused(setup) -> None:
    _, client, demo = setup
    bad = LAN.qr.replace("001158", "001358")  # century digit disagrees with the birth year
    err = error_of(client.post("/api/v1/tickets", json={"service": "HT", "id_qr": bad}, headers=demo.kiosk), 422)
    assert err["code"] == "bad_id_qr" and err["message"].startswith("Không đọc được thẻ")
    assert LAN.name not in str(err)
    err = error_of(client.post("/kiosk/api/card", json={"id_qr": "hello"}, headers=demo.kiosk), 422)
    assert err["code"] == "bad_id_qr"


def test_the_same_card_the_same_day_shows_its_waiting_ticket(setup) -> None:
    _, client, demo = setup
    first = card_ticket(client, demo, HUNG, "HT").get_json()
    again = card_ticket(client, demo, HUNG, "HT")
    assert again.status_code == 200 and again.get_json()["existing"] is True and again.get_json()["id"] == first["id"]
    # Another field is another ticket; a field that allows several (CT) issues again.
    assert card_ticket(client, demo, HUNG, "DD").status_code == 201
    assert card_ticket(client, demo, HUNG, "CT").status_code == 201
    assert card_ticket(client, demo, HUNG, "CT").status_code == 201
    status = client.post("/kiosk/api/card", json={"id_qr": HUNG.qr}, headers=demo.kiosk).get_json()
    assert status["citizen"] == {"given_name": "Hùng", "age_band": "18-34"} and status["elderly"] is False
    assert [w["service"] for w in status["waiting"]] == ["HT", "DD", "CT", "CT"]
    assert status["waiting"][0]["public_id"] == first["public_id"]
    # Reprint on request: a new print job of the same ticket.
    r = client.post(f"/kiosk/api/tickets/{first['public_id']}/reprint", headers=demo.kiosk)
    assert r.status_code == 201 and r.get_json()["print_job"] != first["print_job"]
    # Once called, the card gets a new ticket again.
    client.post("/api/v1/counters/1/next", headers=demo.clerk(1).headers)
    assert error_of(client.post(f"/kiosk/api/tickets/{first['public_id']}/reprint", headers=demo.kiosk), 409)["code"] == "ticket_not_waiting"
    assert client.post("/kiosk/api/card", json={"id_qr": LAN.qr}, headers=demo.kiosk).get_json()["elderly"] is True


def test_dossiers_at_the_counter_and_the_results_desk(setup) -> None:
    app, client, demo = setup
    h = demo.clerk(1).headers
    card_ticket(client, demo, HUNG, "DD")
    err = error_of(client.post("/api/v1/counters/1/dossiers", json={"code": "000.00.12.H56-240101-0001"}, headers=h), 409)
    assert err["code"] == "no_current_ticket"
    client.post("/api/v1/counters/1/next", headers=h)
    r = client.post("/api/v1/counters/1/dossiers", json={"code": RECEIPT}, headers=h)  # the receipt's whole QR, scanned
    assert r.status_code == 200, r.get_data(as_text=True)
    assert [(d["code"], d["area"]) for d in r.get_json()["dossiers"]] == [("000.00.12.H56-240101-0001", "000.00.12.H56")]
    r = client.post("/api/v1/counters/1/dossiers", json={"code": " h56.22.10-230915-0001 "}, headers=h)
    assert [d["code"] for d in r.get_json()["dossiers"]] == ["000.00.12.H56-240101-0001", "H56.22.10-230915-0001"]
    assert error_of(client.post("/api/v1/counters/1/dossiers", json={"code": "ABC"}, headers=h), 422)["code"] == "bad_dossier_code"
    r = client.delete("/api/v1/counters/1/dossiers/H56.22.10-230915-0001", headers=h)
    assert [d["code"] for d in r.get_json()["dossiers"]] == ["000.00.12.H56-240101-0001"]
    assert error_of(client.delete("/api/v1/counters/1/dossiers/H56.22.10-230915-0001", headers=h), 404)["code"] == "unknown_dossier"
    assert error_of(client.post("/api/v1/counters/2/dossiers", json={"code": "H56.22.10-230915-0001"}, headers=h), 403)["code"] == "not_your_counter"
    client.post("/api/v1/counters/1/start", headers=h)
    client.post("/api/v1/counters/1/finish", headers=h)

    # The receipt at the kiosk: a ticket for the results desk carrying the code.
    r = client.post("/api/v1/tickets", json={"receipt_qr": RECEIPT}, headers=demo.kiosk)
    assert r.status_code == 201, r.get_data(as_text=True)
    t = r.get_json()
    assert t["service"] == "TK" and t["code"] == "K001" and t["dossier"] == "000.00.12.H56-240101-0001"
    again = client.post("/api/v1/tickets", json={"receipt_qr": RECEIPT}, headers=demo.kiosk)
    assert again.status_code == 200 and again.get_json()["existing"] is True and again.get_json()["id"] == t["id"]
    # The results desk sees it, calls it, hands the result back.
    h2 = demo.clerk(2).headers
    assert client.post("/api/v1/counters/2/next", headers=h2).get_json()["ticket"]["code"] == "K001"
    r = client.post("/api/v1/counters/2/dossiers/000.00.12.h56-240101-0001/returned", headers=h2)
    assert r.status_code == 200 and r.get_json()["dossiers"][0]["returned_at"]
    err = error_of(client.post("/api/v1/counters/2/dossiers/000.00.12.H56-240101-0001/returned", headers=h2), 409)
    assert err["code"] == "dossier_returned"
    # A returned result: a clear message instead of a ticket.
    err = error_of(client.post("/api/v1/tickets", json={"receipt_qr": RECEIPT}, headers=demo.kiosk), 409)
    assert err["code"] == "dossier_returned" and "đã được trả kết quả" in err["message"]
    with app.extensions["motcua"].db.read() as s:
        rows = s.scalars(select(Dossier).order_by(Dossier.id)).all()
        assert [(d.source, d.code) for d in rows] == [("counter", "000.00.12.H56-240101-0001"), ("receipt", "000.00.12.H56-240101-0001")]


def test_no_results_desk_and_bad_bodies(make_app) -> None:
    app, demos = make_app()
    client, demo = app.test_client(), demos["demo"]
    err = error_of(client.post("/api/v1/tickets", json={"receipt_qr": RECEIPT}, headers=demo.kiosk), 422)
    assert err["code"] == "no_results_desk"
    assert error_of(client.post("/api/v1/tickets", json={"priority": "elderly"}, headers=demo.kiosk), 422)["code"] == "invalid_body"
    both = {"service": "HT", "id_qr": LAN.qr, "receipt_qr": RECEIPT}
    assert error_of(client.post("/api/v1/tickets", json=both, headers=demo.kiosk), 422)["code"] == "invalid_body"


def test_the_same_card_on_postgresql(make_app, pg_url) -> None:
    app, demos = make_app(config=CITIZENS, database_url=pg_url)
    test_the_same_card_the_same_day_shows_its_waiting_ticket((app, app.test_client(), demos["demo"]))


def test_dossiers_on_postgresql(make_app, pg_url) -> None:
    app, demos = make_app(config=CITIZENS, database_url=pg_url)
    test_dossiers_at_the_counter_and_the_results_desk((app, app.test_client(), demos["demo"]))
