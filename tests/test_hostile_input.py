"""Hostile input: bodies too large or parsed before the caller is known, JSON nested 100,000
deep, NUL characters anywhere (PostgreSQL cannot hold them), and what the API answers for
routes and methods it does not have. Every refusal is a 4xx in the documented shape."""

from __future__ import annotations

import io

import pytest

from motcua.api.openapi import document
from motcua.hardening import API_MAX_BYTES, FORM_MAX_BYTES
from tests.support.demo import login

BAD_TOKEN = {"Authorization": "Bearer dev_made-up-token"}


def api_error(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    err = resp.get_json()["error"]
    assert err["code"] and err["message"] and err["message_en"] and err["message"] != err["message_en"]
    return err


# ---- size, and who is asking before the body is read -----------------------------------


def test_an_api_body_over_the_limit_is_refused_unread(client, demo) -> None:
    body = b'{"service": "HT", "pad": "' + b"x" * (API_MAX_BYTES + 1) + b'"}'
    for headers in ({}, BAD_TOKEN, demo.kiosk):
        err = api_error(client.post("/api/v1/tickets", data=body, content_type="application/json", headers=headers), 413)
        assert err["code"] == "request_entity_too_large"


def test_a_large_form_to_the_sign_in_page_is_refused_unread(client) -> None:
    # Many fields, each under the form parser's own per-field limit: only a body limit stops it.
    fields = {f"f{i}": "x" * 1200 for i in range(FORM_MAX_BYTES // 1200 + 10)}
    r = client.post("/login", data={"username": "a", "password": "b", **fields})
    assert r.status_code == 413


def test_the_token_is_checked_before_the_body_is_read(client, demo) -> None:
    """A made-up token, or none, is a 401 whatever the body: the body is never parsed for them."""
    for headers in ({}, BAD_TOKEN):
        assert api_error(client.post("/api/v1/tickets", data="{not json", content_type="application/json", headers=headers), 401)
        assert api_error(client.post("/api/v1/counters/1/pause", data="{not json", content_type="application/json", headers=headers), 401)
    # With a real token the same body is what is wrong.
    assert api_error(client.post("/api/v1/tickets", data="{not json", content_type="application/json", headers=demo.kiosk), 400)["code"] == "bad_json"


def test_uploads_take_more_only_where_expected_and_only_from_staff(client, demo) -> None:
    def big() -> io.BytesIO:
        return io.BytesIO(b"RIFF" + b"\0" * (2 * 1024 * 1024))

    r = client.post("/display/voice/clip/1", data={"clip": (big(), "a.wav")}, content_type="multipart/form-data")
    assert r.status_code == 413  # a stranger's upload is refused unread
    csrf = login(client, demo.manager)
    r = client.post("/display/voice/clip/1", data={"csrf_token": csrf, "clip": (big(), "a.wav")}, content_type="multipart/form-data")
    assert r.status_code == 302  # read, and refused by the clip's own checks (not a WAV of speech)
    # The manager's other forms keep the small limit.
    r = client.post("/manager/config/users/new", data={"csrf_token": csrf, "pad": "x" * (2 * FORM_MAX_BYTES)})
    assert r.status_code == 413


@pytest.mark.parametrize("depth", [100_000, 40])
def test_json_nested_too_deep_is_a_400(client, demo, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    for body in (nested, '{"service": ' + nested + "}"):
        err = api_error(client.post("/api/v1/tickets", data=body, content_type="application/json", headers=demo.kiosk), 400)
        assert err["code"] == "bad_input"
    # The server is fine afterwards.
    assert client.post("/api/v1/tickets", json={"service": "HT"}, headers=demo.kiosk).status_code == 201


# ---- NUL characters ----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request, make_app):
    if request.param == "sqlite":
        return make_app()
    return make_app(database_url=request.getfixturevalue("pg_url"))


def test_nul_characters_are_bad_input_everywhere(any_db_app) -> None:
    app, demos = any_db_app
    demo = next(iter(demos.values()))
    client = app.test_client()
    for url in ("/api/v1/services?office=%00", "/api/v1/tickets/%00", "/api/v1/tickets/a%00b/cancel"):
        resp = client.post(url, json={}) if url.endswith("cancel") else client.get(url)
        assert api_error(resp, 400)["code"] == "bad_input", url
    for url in ("/t/a%00b", "/kiosk/?office=%00", "/kiosk/?office=demo&x=%00"):
        r = client.get(url)
        assert r.status_code == 400 and "NUL" in r.get_data(as_text=True), url
    err = api_error(client.post("/api/v1/tickets", json={"service": "H\u0000T"}, headers=demo.kiosk), 400)
    assert err["code"] == "bad_input"
    api_error(client.post("/api/v1/tickets", json={"service": "HT", "office": "\u0000"}, headers=demo.kiosk), 400)

    csrf = client.get("/login").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": "quan\x00ly", "password": "x", "csrf_token": csrf})
    assert r.status_code == 400
    login(client, demo.manager)
    assert client.get("/manager/?office=%00").status_code == 400
    assert client.get("/manager/config/users?office=demo%00").status_code == 400
    # Nothing of it broke the server.
    assert client.get("/api/v1/services").status_code == 200


# ---- what the API says about routes and methods it does not have ---------------------------


def test_405_names_the_allowed_methods(client) -> None:
    r = client.delete("/api/v1/services")
    api_error(r, 405)
    assert "GET" in r.headers["Allow"]
    r = client.get("/api/v1/tickets")
    api_error(r, 405)
    assert r.headers["Allow"].split(", ") and "POST" in r.headers["Allow"]


def test_the_rooms_json_endpoints_answer_json_404s(client, demo) -> None:
    login(client, demo.clerk(1))
    for url in ("/counter/api/99999999999/waiting", "/counter/api/nothing-here", "/kiosk/api/nothing-here"):
        assert api_error(client.get(url), 404)["code"] == "not_found", url


def test_the_openapi_document_declares_422_answers(app) -> None:
    with app.test_request_context():
        doc = document()
    with_input = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            takes_input = "requestBody" in op or any(p["in"] == "query" for p in op.get("parameters", []))
            if takes_input:
                with_input += 1
                assert op["responses"]["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (path, method)
    assert with_input >= 10
