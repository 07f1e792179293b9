"""The kiosk's spoken guidance and staff call, the wait texts, and the demo's address hint."""

from __future__ import annotations

import io
import wave

from motcua.engine.estimates import Eta
from motcua.netaddr import public_url_hint


def test_nobody_ahead_reads_under_n_minutes() -> None:
    first = Eta(0, 11)  # nobody ahead: the range starts at 0
    assert first.text() == "Dưới 11 phút" and first.text_en() == "Under 11 min"
    later = Eta(18, 31)
    assert later.text() == "Khoảng 18–31 phút" and later.text_en() == "About 18–31 min"
    assert Eta(None, None).text() == "Không xác định"


def test_a_loopback_server_is_told_how_phones_reach_it() -> None:
    lines = "\n".join(public_url_hint({"public_url": None}, "127.0.0.1", 8000))
    assert "public_url = \"http://" in lines and ":8000" in lines and "0.0.0.0" in lines
    assert public_url_hint({"public_url": "https://motcua.example.gov.vn"}, "127.0.0.1", 8000) == []
    assert public_url_hint({"public_url": "http://127.0.0.1:8000"}, "0.0.0.0", 8000)  # still unreachable from a phone


def test_the_demo_kiosk_speaks_the_prompt_and_the_ticket(client, demo) -> None:
    prompt = client.get("/kiosk/api/speech?what=prompt", headers=demo.kiosk)
    assert prompt.status_code == 200 and prompt.mimetype == "audio/wav"
    r = client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk)
    code = r.get_json()["code"]
    ticket = client.get(f"/kiosk/api/speech?what=ticket&code={code}&service=HT", headers=demo.kiosk)
    number_only = client.get(f"/kiosk/api/speech?what=ticket&code={code}&service=NOPE", headers=demo.kiosk)
    assert ticket.status_code == 200 and number_only.status_code == 200

    def seconds(resp) -> float:
        with wave.open(io.BytesIO(resp.data)) as w:
            return w.getnframes() / w.getframerate()

    # "Lĩnh vực Hộ tịch" comes before the number: longer than the number alone.
    assert seconds(ticket) > seconds(number_only) + 0.5 > 1.0
    assert client.get("/kiosk/api/speech?what=ticket&code=a;b", headers=demo.kiosk).status_code == 400
    assert client.get("/kiosk/api/speech?what=prompt").status_code == 401


def test_speech_is_off_unless_the_kiosk_turns_it_on(client, db, office) -> None:
    from motcua.engine import clock
    from motcua.models import Device, DeviceKind
    from motcua.security import new_token, token_hash

    token = new_token("dev")  # a kiosk added later, without `voice = true` in config.toml
    with db.write() as s:
        s.add(Device(office_id=office.id, name="Kiosk tầng 2", kind=DeviceKind.kiosk, token_hash=token_hash(token), created_at=clock.now()))
    headers = {"Authorization": f"Bearer {token}"}
    r = client.get("/kiosk/api/speech?what=prompt", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "speech_unavailable"
    assert client.get("/kiosk/api/me", headers=headers).get_json()["voice"] is False


def test_call_staff_raises_one_change_a_minute(app, client, demo) -> None:
    seen = []
    app.extensions["motcua"].db.subscribe(lambda changes: seen.extend(c for c in changes if c.kind == "kiosk.help"))
    first = client.post("/kiosk/api/help", headers=demo.kiosk)
    again = client.post("/kiosk/api/help", headers=demo.kiosk)
    assert first.status_code == 201 and first.get_json()["sent"] is True
    assert again.status_code == 200 and again.get_json() == {"sent": False, "repeat": True}
    assert len(seen) == 1 and seen[0].data["kiosk"]["name"] == "Kiosk sảnh"
    assert client.post("/kiosk/api/help").status_code == 401
