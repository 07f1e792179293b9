"""The manager's page for citizens at home (/manager/config/remote): remote-number settings take
effect on the public pages at once, the board's embedding sites reach its CSP, bad input is
refused with config.toml's rules, and the page gives the <iframe> snippet to paste."""

from __future__ import annotations

import html
import re

from motcua.models import AuditLog, Office
from tests.support.forms import manager_client, one, post

URL = "/manager/config/remote"
GOOD = {"remote_enabled": "y", "remote_share": "40", "remote_phone_required": "y", "remote_per_phone_per_day": "2",
        "remote_check_in": "y", "check_in_grace_minutes": "20", "board_frame_ancestors": "https://xaphuonglam.gov.vn\n*.hue.gov.vn"}


def test_remote_settings_are_saved_audited_and_used_at_once(app, demo) -> None:
    client = manager_client(app, demo)
    assert "Đơn vị này chưa nhận lấy số từ xa" not in app.test_client().get("/q/demo").get_data(as_text=True)

    off = {k: v for k, v in GOOD.items() if k != "remote_enabled"}  # an unticked box is not sent
    r = post(client, URL, off)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert "Đơn vị này chưa nhận lấy số từ xa" in app.test_client().get("/q/demo").get_data(as_text=True)
    settings = one(app, Office, code="demo").settings
    assert (settings["remote_enabled"], settings["remote_share"], settings["remote_per_phone_per_day"]) == (False, 40, 2)
    assert settings["remote_check_in"] is True and settings["check_in_grace_minutes"] == 20
    assert settings["board_frame_ancestors"] == ["https://xaphuonglam.gov.vn", "*.hue.gov.vn"]
    row = one(app, AuditLog, entity="settings")
    assert row.changes["remote_enabled"] == [True, False] and row.changes["remote_share"] == [50, 40]

    assert post(client, URL, GOOD).status_code == 302
    page = app.test_client().get("/q/demo").get_data(as_text=True)
    assert "Đơn vị này chưa nhận lấy số từ xa" not in page
    assert "xác nhận có mặt tại máy lấy số" in page  # remote_check_in is on
    board = app.test_client().get("/public/demo")
    assert "frame-ancestors 'self' https://xaphuonglam.gov.vn *.hue.gov.vn" in board.headers["Content-Security-Policy"]

    # The form shows what is saved.
    form = client.get(URL).get_data(as_text=True)
    assert re.search(r"<input[^>]*name=\"remote_share\"[^>]*value=\"40\"", form)
    assert "https://xaphuonglam.gov.vn\n*.hue.gov.vn" in html.unescape(form)


def test_bad_remote_settings_are_refused_under_their_inputs(app, demo) -> None:
    client = manager_client(app, demo)
    for name, value in (("remote_share", "150"), ("remote_per_phone_per_day", "0"), ("check_in_grace_minutes", "0"),
                        ("board_frame_ancestors", "javascript:alert(1)"), ("board_frame_ancestors", "https://a.vn 'unsafe-inline'")):
        r = post(client, URL, {**GOOD, name: value})
        assert r.status_code == 422, (name, value)
        page = r.get_data(as_text=True)
        assert f'id="{name}-error"' in page and f'aria-describedby="{name}-error"' in page, (name, value)
    assert one(app, Office, code="demo").settings["board_frame_ancestors"] == []
    assert one(app, AuditLog, entity="settings") is None


def test_the_page_gives_the_board_snippet_to_copy(app, demo) -> None:
    client = manager_client(app, demo)
    page = client.get(URL).get_data(as_text=True)
    snippet = html.unescape(page.split('id="embed-code"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0])
    assert snippet.startswith('<iframe src="http://localhost/public/demo"') and snippet.endswith("></iframe>")
    assert 'title="Bảng chờ công khai — ' in snippet
    assert 'data-copy="embed-code"' in page and "frame-ancestors" in page
    assert "/q/demo" in page  # where citizens take a number
    index = client.get("/manager/config/").get_data(as_text=True)
    assert URL in index
    en = client.get(URL + "?lang=en").get_data(as_text=True)
    assert "Copy the embed code" in en and "Remote numbers and the public wait board" in en
