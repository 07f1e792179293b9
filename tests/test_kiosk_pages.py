"""The kiosk room through Flask's test client: pages in Vietnamese and English, QR codes that
open the ticket's status page, the kiosk's print-status endpoint, and a complete catalogue."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
import zxingcpp
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from PIL import Image
from sqlalchemy import select

import kiosk
from motcua.engine import clock
from motcua.models import Device, DeviceKind, Office, PrintJob
from motcua.security import new_token, token_hash

KIOSK_DIR = Path(kiosk.__file__).parent
CATALOGUE = KIOSK_DIR / "translations" / "en" / "LC_MESSAGES"


def page_config(html: str, element_id: str) -> dict:
    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert m, f"no #{element_id} blob"
    return json.loads(m.group(1))


def issue(client, headers: dict, service: str = "HT", **body) -> dict:
    r = client.post("/api/v1/tickets", json={"service": service, **body}, headers=headers)
    assert r.status_code == 201, r.json
    return r.json


def add_device(db, kind: DeviceKind, name: str) -> str:
    token = new_token("dev")
    with db.write() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        s.add(Device(office_id=office.id, name=name, kind=kind, token_hash=token_hash(token), created_at=clock.now()))
    return token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# ---- the kiosk page ---------------------------------------------------------------------------


def test_kiosk_page_in_vietnamese(client) -> None:
    r = client.get("/kiosk/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Cache-Control"] == "no-store"
    html = r.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Chạm vào lĩnh vực bạn cần giải quyết" in html
    assert "Lấy số ưu tiên" in html
    assert ">English</button>" in html
    assert "user-scalable=no" in html
    # Both languages on the setup screen, whatever the page's language.
    assert "Kiosk chưa được kích hoạt" in html and "This kiosk is not set up yet" in html
    # Only our own files: a kiosk has no internet.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "/static/vendor/socket.io/socket.io.min.js" in html and "/static/js/queue-client.js" in html

    cfg = page_config(html, "kiosk-config")
    assert cfg["lang"] == "vi"
    assert cfg["settings"] == {"office": {"code": "demo", "name": "Trung tâm Phục vụ hành chính công xã Minh Khai (demo)"}, "kiosk_reset_seconds": 20, "results_desk": None, "voice": False}
    assert cfg["strings"]["offline"] == "Mất kết nối máy chủ, đang thử lại…"
    assert cfg["strings"]["print_failed"] == "Máy in gặp sự cố. Số của bạn vẫn có hiệu lực: hãy ghi lại số hoặc quét mã QR"
    # Notices a Vietnamese screen also shows in English beneath.
    assert cfg["strings_en"]["offline"] == "Lost connection to the server, retrying…"
    assert cfg["strings_en"]["print_failed"].startswith("The printer has a problem. Your number is still valid")
    assert cfg["urls"]["tickets"] == "/api/v1/tickets"
    assert cfg["urls"]["print_job"] == "/kiosk/api/print-jobs/"
    for url in ("/kiosk/static/kiosk.js", "/kiosk/static/kiosk.css"):
        assert client.get(url).status_code == 200


def test_kiosk_page_in_english(client) -> None:
    r = client.get("/kiosk/?lang=en")
    html = r.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Touch the service you need" in html and "Priority ticket" in html
    assert "Chạm vào lĩnh vực" not in html
    assert ">Tiếng Việt</button>" in html
    assert "lang=en" in r.headers["Set-Cookie"]
    cfg = page_config(html, "kiosk-config")
    assert cfg["lang"] == "en"
    assert cfg["strings"]["printed"] == "Printed — please take your ticket"
    assert cfg["strings_en"] is None


def test_kiosk_settings_follow_the_office(app, client, db, demo) -> None:
    with db.write() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        office.settings = {**office.settings, "kiosk_reset_seconds": 45}
    cfg = page_config(client.get("/kiosk/").get_data(as_text=True), "kiosk-config")
    assert cfg["settings"]["kiosk_reset_seconds"] == 45
    me = client.get("/kiosk/api/me", headers=demo.kiosk)
    assert me.status_code == 200
    assert me.json == {"device": "Kiosk sảnh", "printer": True, "office": cfg["settings"]["office"], "kiosk_reset_seconds": 45, "results_desk": None, "voice": True}  # the demo kiosk speaks (config.toml)
    bare = add_device(db, DeviceKind.kiosk, "Kiosk tầng 2")
    assert client.get("/kiosk/api/me", headers=bearer(bare)).json["printer"] is False


def test_kiosk_api_refuses_what_is_not_a_kiosk(client, demo) -> None:
    r = client.get("/kiosk/api/me")
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    r = client.get("/kiosk/api/me", headers=bearer("dev_made-up"))
    assert r.status_code == 401 and r.json["error"]["code"] == "bad_token"
    assert r.json["error"]["message"] == "Mã truy cập không hợp lệ hoặc đã bị thu hồi."
    r = client.get("/kiosk/api/me", headers=demo.device_headers("Màn hình sảnh"))
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    r = client.get("/kiosk/api/me", headers=demo.manager.headers)
    assert r.status_code == 403


def test_the_home_page_links_the_kiosk(client) -> None:
    html = client.get("/").get_data(as_text=True)
    assert '<a href="/kiosk/">Kiosk lấy số</a>' in html


# ---- QR codes ---------------------------------------------------------------------------------


def read_qr(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, found
    return found[0].text


def test_qr_codes_open_the_status_page(client, demo) -> None:
    t = issue(client, demo.kiosk)
    assert t["status_url"] == f"http://localhost/t/{t['public_id']}"
    svg = client.get(f"/kiosk/qr/{t['public_id']}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(svg.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None
    png = client.get(f"/kiosk/qr/{t['public_id']}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    url = read_qr(png.data)
    assert url == t["status_url"]
    # The address in the QR is the status page of this very ticket.
    page = client.get(url.removeprefix("http://localhost"))
    assert page.status_code == 200 and t["code"] in page.get_data(as_text=True)


def test_qr_codes_use_the_public_url(app, client, demo) -> None:
    app.extensions["motcua"].settings["public_url"] = "https://motcua.example.gov.vn/"
    t = issue(client, demo.kiosk)
    assert read_qr(client.get(f"/kiosk/qr/{t['public_id']}.png").data) == f"https://motcua.example.gov.vn/t/{t['public_id']}"


def test_qr_of_an_unknown_ticket_is_404(client) -> None:
    assert client.get("/kiosk/qr/no-such-ticket.svg").status_code == 404
    assert client.get("/kiosk/qr/no-such-ticket.png").status_code == 404


# ---- print status -----------------------------------------------------------------------------


def set_job(db, job_id: int, status: str, error: str | None = None) -> None:
    with db.write() as s:
        job = s.get(PrintJob, job_id)
        job.status, job.error, job.updated_at = status, error, clock.now()
        if status == "printed":
            job.printed_at = clock.now()


def test_print_job_status_for_the_issuing_kiosk_only(client, db, demo) -> None:
    t = issue(client, demo.kiosk)
    job = t["print_job"]
    assert isinstance(job, int)
    url = f"/kiosk/api/print-jobs/{job}"

    # The real spooler prints it on the demo's preview printer; the kiosk sees each state.
    import time

    seen = []
    for _ in range(200):
        r = client.get(url, headers=demo.kiosk)
        assert r.status_code == 200
        seen.append(r.json["status"])
        if r.json["status"] == "printed":
            break
        time.sleep(0.05)
    assert set(seen) <= {"pending", "printing", "printed"} and seen[-1] == "printed"
    assert r.json["id"] == job and r.json["ticket"] == t["public_id"] and r.json["code"] == t["code"]
    assert r.json["attempts"] == 1 and r.json["printed_at"] and r.json["error"] is None

    for status in ("printing", "printed"):
        set_job(db, job, status)
        assert client.get(url, headers=demo.kiosk).json["status"] == status
    assert client.get(url, headers=demo.kiosk).json["printed_at"] is not None
    for status in ("failed", "dropped"):
        set_job(db, job, status, error="paper out")
        body = client.get(url, headers=demo.kiosk).json
        assert (body["status"], body["error"]) == (status, "paper out")

    # Another kiosk cannot tell the job exists; nobody else may ask at all.
    other = add_device(db, DeviceKind.kiosk, "Kiosk tầng 2")
    r = client.get(url, headers=bearer(other))
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_print_job"
    assert r.json["error"]["message_en"] == "Print job not found."
    assert client.get(url).status_code == 401
    assert client.get(url, headers=demo.device_headers("Màn hình sảnh")).status_code == 403
    assert client.get(url, headers=demo.manager.headers).status_code == 403
    assert client.get(f"/kiosk/api/print-jobs/{job + 1000}", headers=demo.kiosk).status_code == 404


def test_no_print_job_without_a_printer(client, db, demo) -> None:
    bare = add_device(db, DeviceKind.kiosk, "Kiosk tầng 2")
    assert issue(client, bearer(bare))["print_job"] is None
    assert issue(client, demo.clerk(1).headers)["print_job"] is None


# ---- the status page behind the QR ----------------------------------------------------------------


def test_status_page_in_vietnamese_and_english(client, demo) -> None:
    t = issue(client, demo.kiosk, priority="elderly")
    r = client.get(f"/t/{t['public_id']}")
    assert r.status_code == 200
    assert r.headers["X-Robots-Tag"] == "noindex" and r.headers["Cache-Control"] == "no-store"
    html = r.get_data(as_text=True)
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "width=device-width" in html
    assert t["code"] in html and "Hộ tịch" in html and "Người cao tuổi (từ 60 tuổi)" in html
    assert "Số thứ tự của bạn" in html and "Hủy số này" in html
    assert f"Bạn có chắc muốn hủy số {t['code']}?" in html
    cfg = page_config(html, "status-config")
    assert cfg["ticket"]["public_id"] == t["public_id"] and cfg["ticket"]["status"] == "waiting"
    assert cfg["ticket"]["position"] == 1
    assert cfg["strings"]["called"] == "Mời bạn đến quầy số {counter}"
    assert cfg["urls"] == {"status": f"/api/v1/tickets/{t['public_id']}", "cancel": f"/api/v1/tickets/{t['public_id']}/cancel",
                           "push": f"/api/v1/public/tickets/{t['public_id']}/push", "push_key": "/api/v1/public/push/key",
                           "service_worker": "/t/sw.js?lang=vi", "service_worker_scope": "/t/"}
    assert cfg["push_ahead"] == "5 và 2" and "Báo cho tôi" in html

    html = client.get(f"/t/{t['public_id']}?lang=en").get_data(as_text=True)
    assert "Your number" in html and "Cancel this number" in html and "Place in line" in html
    cfg = page_config(html, "status-config")
    assert cfg["strings"]["called"] == "Please go to counter {counter}"


def test_status_page_of_an_unknown_ticket(client) -> None:
    for lang in ("", "?lang=en"):
        r = client.get(f"/t/not-a-ticket{lang}")
        assert r.status_code == 404
        html = r.get_data(as_text=True)
        assert "Không tìm thấy số thứ tự" in html and "Ticket not found" in html
        assert html.index("Không tìm thấy số thứ tự") < html.index("Ticket not found")
        assert 'name="robots" content="noindex' in html


# ---- the English catalogue ------------------------------------------------------------------------


def test_every_kiosk_message_has_an_english_translation() -> None:
    po = read_po((CATALOGUE / "messages.po").open("rb"))
    with (CATALOGUE / "messages.mo").open("rb") as fh:
        mo = read_mo(fh)
    compiled = {m.id: m.string for m in mo if m.id}
    used = {msg[2] for msg in extract_from_dir(str(KIOSK_DIR), method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")])}
    assert used, "no messages extracted"
    missing = sorted(m for m in used if not compiled.get(m))
    assert not missing, f"untranslated or not compiled (run pybabel compile -d kiosk/translations): {missing}"
    for m in po:
        if not m.id:
            continue
        assert compiled.get(m.id) == m.string, f"messages.mo is older than messages.po: {m.id!r}"
        assert set(re.findall(r"\{\w+\}|%\(\w+\)s", m.id)) == set(re.findall(r"\{\w+\}|%\(\w+\)s", m.string)), m.id


@pytest.mark.parametrize("path", ["/kiosk/", "/kiosk/?lang=en"])
def test_kiosk_strings_fill_every_key_the_script_reads(client, path: str) -> None:
    cfg = page_config(client.get(path).get_data(as_text=True), "kiosk-config")
    script = (KIOSK_DIR / "static" / "kiosk.js").read_text(encoding="utf-8")
    html_keys = set(re.findall(r'data-text(?:-en)?="(\w+)"', client.get(path).get_data(as_text=True)))
    keys = set(re.findall(r"\bS\.(\w+)", script)) | html_keys
    assert keys and keys <= set(cfg["strings"]), keys - set(cfg["strings"])
