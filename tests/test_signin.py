"""Sign-in: an unknown user costs the same work as a wrong password, one address spraying many
usernames is throttled, only same-site redirects after sign-in, and the password rule holds
wherever a password is set."""

from __future__ import annotations

import re

import pytest

from motcua import auth, passwords
from tests.support.cli import run_cli
from tests.support.forms import manager_client, post

WEAK = ["12345678", "password", "aaaaaaaa", "matkhau123", "motcua2024", "abcdefgh"]


def csrf_of(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def test_an_unknown_user_costs_a_password_check_like_a_known_one(client, demo, monkeypatch) -> None:
    """Counted, not timed: a scrypt check runs for an unknown user as for a wrong password."""
    checks: list[str] = []
    real = auth.check_password

    def counting(hashed: str, password: str) -> bool:
        checks.append(hashed.split("$")[0])
        return real(hashed, password)

    monkeypatch.setattr(auth, "check_password", counting)
    csrf = csrf_of(client)
    assert client.post("/login", data={"username": demo.manager.username, "password": "sai-mat-khau", "csrf_token": csrf}).status_code == 401
    assert client.post("/login", data={"username": "khong-co-ai", "password": "sai-mat-khau", "csrf_token": csrf}).status_code == 401
    assert len(checks) == 2 and checks[0] == checks[1]  # the same scheme and cost


def test_spraying_many_usernames_from_one_address_is_throttled(client) -> None:
    csrf = csrf_of(client)
    codes = [client.post("/login", data={"username": f"nguoi-{i}", "password": "Mua-thu-2024", "csrf_token": csrf}).status_code
             for i in range(40)]
    assert codes[0] == 401 and 429 in codes
    assert codes.index(429) <= 25


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "https://evil.example/", "/\\evil.example",
                                    "/%0a/evil.example", "%2F%2Fevil.example", "javascript:alert(1)", " //evil.example"])
def test_only_same_site_redirects_after_sign_in(client, demo, target: str) -> None:
    r = client.post(f"/login?next={target}", data={"username": demo.manager.username, "password": demo.manager.password,
                                                   "csrf_token": csrf_of(client)})
    assert r.status_code == 302
    assert r.headers["Location"] == "/manager/"  # the manager's home, not the target


def test_a_same_site_next_is_followed(client, demo) -> None:
    r = client.post("/login?next=/manager/config/users%3Foffice%3Ddemo", data={
        "username": demo.manager.username, "password": demo.manager.password, "csrf_token": csrf_of(client)})
    assert r.headers["Location"] == "/manager/config/users?office=demo"


@pytest.mark.parametrize("password", WEAK)
def test_the_password_rule_refuses_guessable_passwords(password: str) -> None:
    assert passwords.problem(password, username="lan") is not None


def test_the_password_rule_accepts_a_phrase_and_names_why_it_refuses() -> None:
    assert passwords.problem("cay-bang-xanh-ven-ho") is None
    assert passwords.problem("ngan")[1].startswith("the password needs at least 8")
    assert "easy to guess" in passwords.problem("nguyenvanlan1", username="lan", full_name="Nguyễn Văn Lan nguyenvanlan")[1]
    assert passwords.problem("x" * 200) is not None


def test_manager_pages_refuse_weak_passwords(app, demo) -> None:
    client = manager_client(app, demo)
    for password in ("12345678", "password", "aaaaaaaa"):
        r = post(client, "/manager/config/users/new", {"username": "lan", "full_name": "Lan", "role": "clerk", "password": password, "active": "y"})
        assert r.status_code == 422, password
        assert "dễ đoán" in r.get_data(as_text=True)
    r = post(client, "/manager/config/users/new", {"username": "lan", "full_name": "Lan", "role": "clerk", "password": "cay-bang-xanh-ven-ho", "active": "y"})
    assert r.status_code == 302


def test_the_cli_refuses_weak_passwords(tmp_path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0 and run_cli(tmp_path, "seed").returncode == 0
    for password in ("12345678", "password", "aaaaaaaa"):
        added = run_cli(tmp_path, "users", "add", "hoa", "--role", "clerk", "--password-stdin", stdin=password + "\n")
        assert added.returncode != 0 and "easy to guess" in added.stderr, (password, added.stderr)
    assert run_cli(tmp_path, "users", "add", "hoa", "--role", "clerk", "--password-stdin", stdin="cay-bang-xanh-ven-ho\n").returncode == 0
