"""A printer's connection kind and target decide what the server opens for every ticket, so only
admins set them: an office manager who points a printer at the instance's database (connection
`file`) is refused and nothing changes; the manager may still rename the printer and switch it
off; an admin may change the connection."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from motcua.models import AuditLog, Printer
from tests.support.demo import login

PRINTER = "kiosk-sanh"


def form_page(client, url: str) -> tuple[int, str, str | None]:
    r = client.get(url)
    page = r.get_data(as_text=True)
    m = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)
    return r.status_code, page, m.group(1) if m else None


def printer_row(app) -> Printer:
    with app.extensions["motcua"].db.read() as s:
        return s.scalar(select(Printer).where(Printer.name == PRINTER))


def audit_count(app) -> int:
    with app.extensions["motcua"].db.read() as s:
        return s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity == "printer"))


def fields_of(p: Printer, **changes: str) -> dict[str, str]:
    data = {"name": p.name, "connection": p.connection, "target": p.target, "profile": p.profile, "width_dots": str(p.width_dots),
            "timeout": str(p.timeout), **({"native_qr": "y"} if p.native_qr else {}), **({"active": "y"} if p.active else {})}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def database_path(app) -> str:
    return app.extensions["motcua"].db.engine.url.database


def test_a_manager_cannot_point_a_printer_at_the_database(app, demo) -> None:
    client = app.test_client()
    login(client, demo.manager)
    p = printer_row(app)
    url = f"/manager/config/printers/{p.id}"
    status, page, token = form_page(client, url)
    assert status == 200
    # The manager sees the connection and target, read-only.
    assert re.search(r'<select[^>]*disabled[^>]*name="connection"|<select[^>]*name="connection"[^>]*disabled', page)
    assert re.search(r'<input[^>]*name="target"[^>]*readonly|<input[^>]*readonly[^>]*name="target"', page)

    before = (p.connection, p.target, p.name, p.active)
    for changes in ({"connection": "file", "target": database_path(app)}, {"target": database_path(app)}, {"connection": "file"}):
        r = client.post(url, data={"csrf_token": token, **fields_of(p, **changes)})
        assert r.status_code == 403, r.get_data(as_text=True)
        text = r.get_data(as_text=True)
        assert "Chỉ quản trị viên mới đổi được kiểu kết nối và địa chỉ máy in" in text
        assert "only an admin" not in text  # the Vietnamese page speaks Vietnamese only
        now = printer_row(app)
        assert (now.connection, now.target, now.name, now.active) == before
    assert audit_count(app) == 0

    # A new printer is all connection: the manager may not add one.
    assert client.get("/manager/config/printers/new").status_code == 403
    r = client.post("/manager/config/printers/new", data={"csrf_token": token, **fields_of(p, name="in-tron", connection="file",
                                                                                                 target=database_path(app))})
    assert r.status_code == 403
    with app.extensions["motcua"].db.read() as s:
        assert s.scalar(select(func.count()).select_from(Printer)) == 1


def test_a_manager_still_renames_and_switches_off_a_printer(app, demo) -> None:
    client = app.test_client()
    login(client, demo.manager)
    p = printer_row(app)
    url = f"/manager/config/printers/{p.id}"
    _status, _page, token = form_page(client, url)
    # As the browser sends the form: the disabled select is left out, the read-only target is sent as shown.
    data = fields_of(p, name="may-in-sanh", width_dots="384", active=None)
    del data["connection"]
    r = client.post(url, data={"csrf_token": token, **data})
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.extensions["motcua"].db.read() as s:
        now = s.get(Printer, p.id)
    assert (now.name, now.width_dots, now.active) == ("may-in-sanh", 384, False)
    assert (now.connection, now.target) == (p.connection, p.target)
    with app.extensions["motcua"].db.read() as s:
        [row] = s.scalars(select(AuditLog).where(AuditLog.entity == "printer")).all()
    assert set(row.changes) == {"name", "width_dots", "active"}


def test_an_admin_sets_the_connection(app, demo, tmp_path) -> None:
    client = app.test_client()
    login(client, demo.admin)
    p = printer_row(app)
    url = f"/manager/config/printers/{p.id}"
    status, page, token = form_page(client, url)
    assert status == 200 and "disabled" not in re.search(r'<select[^>]*name="connection"[^>]*>', page).group(0)
    target = "/dev/usb/lp0"  # in the allow-list ([printer_targets]) whether or not it is plugged in
    r = client.post(url, data={"csrf_token": token, **fields_of(p, connection="file", target=target)})
    assert r.status_code == 302, r.get_data(as_text=True)
    now = printer_row(app)
    assert (now.connection, now.target) == ("file", target)
    # The target is still checked: empty or with a NUL byte is refused, and nothing changes.
    # So is one outside the server's allow-list, for admins too: the database, another host.
    for connection, bad in (("file", database_path(app)), ("file", str(tmp_path / "lp0")), ("network", "8.8.8.8:9100")):
        r = client.post(url, data={"csrf_token": token, **fields_of(p, connection=connection, target=bad)})
        assert r.status_code == 422 and "Đích máy in" in r.get_data(as_text=True)
        assert printer_row(app).target == target
    # An empty target fails the form; a NUL byte never reaches it (the request guard answers 400).
    for bad, status in (("", 422), ("/dev/usb/lp0\x00x", 400)):
        r = client.post(url, data={"csrf_token": token, **fields_of(p, connection="file", target=bad)})
        assert r.status_code == status
        assert printer_row(app).target == target
    assert client.get("/manager/config/printers/new").status_code == 200
