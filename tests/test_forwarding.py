"""Who the client is: forwarding headers count only from configured proxies, a QR code's address
never comes from a request header in production, and refused tokens spend their own budget, not
the one the kiosks behind an address share."""

from __future__ import annotations

import logging
import re

import pytest

STRANGER = "203.0.113.9"  # reaches the process directly, not through the proxy


def issue(client, headers: dict, addr: str, forwarded: str | None = None):
    extra = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/api/v1/tickets", json={"service": "HT"}, headers={**headers, **extra}, environ_base={"REMOTE_ADDR": addr})


@pytest.fixture
def behind_proxy(make_app, monkeypatch):
    monkeypatch.setenv("MOTCUA_PROXIES", "1")
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_ADDRESS", "3/minute")
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_DEVICE", "off")
    return make_app


def test_a_forged_forwarded_for_does_not_escape_the_issuing_limit(behind_proxy) -> None:
    app, demos = behind_proxy()
    kiosk = demos["demo"].kiosk
    client = app.test_client()
    codes = [issue(client, kiosk, STRANGER, f"198.51.100.{i}").status_code for i in range(6)]
    assert codes == [201, 201, 201, 429, 429, 429]


def test_the_proxys_forwarded_for_is_believed(behind_proxy, monkeypatch) -> None:
    monkeypatch.setenv("MOTCUA_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    app, demos = behind_proxy()
    kiosk = demos["demo"].kiosk
    client = app.test_client()
    # Each citizen's address has its own budget when the proxy says who they are.
    codes = [issue(client, kiosk, "10.1.2.3", f"198.51.100.{i}").status_code for i in range(6)]
    assert codes == [201] * 6
    codes = [issue(client, kiosk, "10.1.2.3", "198.51.100.77").status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_a_forged_forwarded_for_does_not_escape_the_sign_in_limit(behind_proxy) -> None:
    app, demos = behind_proxy()
    client = app.test_client()
    page = client.get("/login", environ_base={"REMOTE_ADDR": STRANGER}).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    codes = [client.post("/login", data={"username": demos["demo"].manager.username, "password": f"sai-{i}", "csrf_token": csrf},
                         headers={"X-Forwarded-For": f"198.51.100.{i}"}, environ_base={"REMOTE_ADDR": STRANGER}).status_code
             for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]


def test_trusted_proxies_must_be_addresses(make_app, monkeypatch) -> None:
    from motcua.config import ConfigError

    monkeypatch.setenv("MOTCUA_TRUSTED_PROXIES", "nginx.local")
    with pytest.raises(ConfigError, match="MOTCUA_TRUSTED_PROXIES"):
        make_app()


@pytest.mark.parametrize("header", ["X-Forwarded-Host", "Host"])
def test_in_production_a_qr_address_never_comes_from_the_request(behind_proxy, monkeypatch, caplog, header: str) -> None:
    monkeypatch.setenv("MOTCUA_PRODUCTION", "1")
    monkeypatch.delenv("MOTCUA_PUBLIC_URL", raising=False)
    with caplog.at_level(logging.WARNING, logger="motcua.production"):
        app, demos = behind_proxy()
    assert any("public_url" in r.getMessage() for r in caplog.records)  # said at start-up
    settings = app.extensions["motcua"].settings
    client = app.test_client()
    for addr in (STRANGER, "127.0.0.1"):  # directly, or even through the trusted proxy
        r = client.post("/api/v1/tickets", json={"service": "HT"}, headers={**demos["demo"].kiosk, header: "evil.example"},
                        environ_base={"REMOTE_ADDR": addr})
        assert r.status_code == 201
        assert r.get_json()["status_url"].startswith(f"http://{settings['host']}:{settings['port']}/t/")


def test_a_forged_forwarded_host_is_dropped_from_direct_clients(behind_proxy) -> None:
    app, demos = behind_proxy()
    client = app.test_client()
    r = issue(client, {**demos["demo"].kiosk, "X-Forwarded-Host": "evil.example"}, STRANGER)
    assert "evil.example" not in r.get_json()["status_url"]


def test_made_up_tokens_never_use_up_the_kiosks_budget(make_app, monkeypatch) -> None:
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_ADDRESS", "10/minute")
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_DEVICE", "off")
    monkeypatch.setenv("MOTCUA_AUTH_FAILURE_LIMIT", "5/minute")
    app, demos = make_app()
    client = app.test_client()
    hall = "192.0.2.50"  # the kiosks and a stranger share the hall's address
    fake = [issue(client, {"Authorization": f"Bearer dev_fake{i}"}, hall).status_code for i in range(25)]
    assert fake[:5] == [401] * 5 and set(fake[5:]) == {429}
    none = client.post("/api/v1/tickets", json={"service": "HT"}, environ_base={"REMOTE_ADDR": hall})
    assert none.status_code == 429 and none.get_json()["error"]["code"] == "too_many_requests"
    # The real kiosks behind that address still have their whole budget.
    real = [issue(client, demos["demo"].kiosk, hall).status_code for _ in range(11)]
    assert real == [201] * 10 + [429]
