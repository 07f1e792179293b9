"""Security: who may reach every route, unguessable public ids, the secret key, headers, and
the rate limits on ticket issuing.

The role matrix walks EVERY rule of `app.url_map` (so a route added later is covered by the
policy of its prefix, and a route under a new prefix fails until it is given one), as
anonymous, each kind of device, a clerk, a manager and an admin, each in a fresh app so one
principal's actions never change another's outcome.
"""

from __future__ import annotations

import math
import os
import re
import stat
import subprocess
from collections import Counter as Tally
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from motcua.api.routing import ROUTES
from motcua.models import Ticket, TicketEvent, User
from tests.support.demo import login
from tests.support.env import REPO

ANON, KIOSK, DISPLAY, BOARD, PAD, CLERK, MANAGER, ADMIN = (
    "anonymous", "kiosk", "display", "counter_display", "rating", "clerk", "manager", "admin")
DEVICES = {KIOSK: "Kiosk sảnh", DISPLAY: "Màn hình sảnh", BOARD: "Màn hình quầy 1", PAD: "Đánh giá quầy 1"}
STAFF = {CLERK, MANAGER, ADMIN}
EVERYONE = {ANON, *DEVICES, *STAFF}


@dataclass(frozen=True)
class Policy:
    allowed: frozenset[str]  # must get through (any answer but a refusal or a server error)
    refused: frozenset[str]  # must be refused: 401/403, or a redirect to the sign-in page

    @staticmethod
    def of(allowed: set[str], refused: set[str] | None = None) -> Policy:
        return Policy(frozenset(allowed), frozenset(EVERYONE - allowed if refused is None else refused))


PUBLIC = Policy.of(EVERYONE, set())
OPEN = Policy(frozenset(), frozenset())  # anyone may ask; the answer depends on what they send (no server error is all)
MANAGERS_ONLY = Policy.of({MANAGER, ADMIN})
STAFF_ONLY = Policy.of(STAFF)

# Longest matching prefix wins; "=" marks an exact path with one method.
POLICIES: list[tuple[str, Policy]] = [
    ("/", PUBLIC),  # exact: the home page
    ("/static/", PUBLIC),
    ("/login", OPEN),  # a failed sign-in is a 401, a sign-out redirects to the sign-in page
    ("/logout", OPEN),
    ("/healthz", PUBLIC),
    ("/metrics", OPEN),  # loopback or its own token, whatever the role: tested in test_production.py
    ("/t/", PUBLIC),
    ("/a/", PUBLIC),  # an appointment's page and QR: its unguessable id is the citizen's key to it
    ("/kiosk/", PUBLIC),  # the kiosk page shell, QR images of a ticket id
    ("/kiosk/api/", Policy.of({KIOSK}, {ANON, DISPLAY, BOARD, PAD})),
    ("/display/", PUBLIC),  # the hall page shell, static files, public procedure slides
    ("/display/api/", Policy.of({DISPLAY}, {ANON, KIOSK, PAD})),
    ("/display/audio/", Policy.of({DISPLAY, BOARD, *STAFF}, {ANON, KIOSK, PAD})),
    ("/display/voice", MANAGERS_ONLY),
    ("/counter/", STAFF_ONLY),
    ("/counter/static/", PUBLIC),
    ("/counter/display", PUBLIC),  # device page shells: the token is entered on the device
    ("/counter/rating", PUBLIC),
    ("/counter/api/device", Policy.of({BOARD, PAD}, {ANON, KIOSK, DISPLAY})),
    ("/printers/api/", Policy.of({KIOSK, *STAFF}, {ANON, DISPLAY, BOARD, PAD})),
    ("/manager/", MANAGERS_ONLY),
    ("/manager/static/", PUBLIC),
    ("/manager/config/printers/new", Policy.of({ADMIN})),  # a new printer is its connection and target: admins only
    ("/api/v1/services", PUBLIC),
    ("/api/v1/openapi.json", PUBLIC),
    ("/api/v1/tickets=POST", Policy.of({KIOSK, *STAFF})),
    ("/api/v1/tickets/", PUBLIC),  # a ticket's own id is the citizen's key to it
    ("/api/v1/queue", Policy.of({*DEVICES, *STAFF}, {ANON})),
    ("/api/v1/counters/", STAFF_ONLY),
    ("/api/v1/ratings", Policy.of({PAD})),
    ("/api/v1/reports/", MANAGERS_ONLY),
    ("/q/", PUBLIC),  # remote numbers from a phone, and the public wait board
    ("/public/", PUBLIC),
    ("/api/v1/public/", PUBLIC),
    ("/api/v1/public/tickets=POST", OPEN),  # refusals here are the office's limits, not authorization
]


def policy_for(rule: str, method: str) -> Policy:
    best = None
    for prefix, policy in POLICIES:
        path, _, only = prefix.partition("=")
        if only and (rule != path or method != only):
            continue
        matches = rule == path if (path == "/" or only) else rule.startswith(path)
        if matches and (best is None or len(path) + bool(only) > best[0]):
            best = (len(path) + bool(only), policy)
    assert best is not None, f"{method} {rule}: a new route prefix; give it a policy in POLICIES"
    return best[1]


# A value for every URL parameter, real where it matters (a ticket, a print job, a call).
def fill(rule: str, sample: dict[str, object]) -> str:
    def value(match: re.Match) -> str:
        conv, name = match.group(1), match.group(2)
        if name in sample:
            return str(sample[name])
        if conv == "int":
            return "1"
        if conv == "path":
            return "none.css"
        return {"office_code": "demo", "name": "none.png", "token": "none"}.get(name, "x")

    return re.sub(r"<(?:(\w+):)?(\w+)>", value, rule)


BODY_SAMPLES = {"office": "demo", "service": "HT", "reason": "kiểm tra quyền", "code": "A001", "score": 1, "position": "back",
                "start": "2026-09-07T02:00:00+00:00", "name": "Kiểm Tra", "phone": "0912345678",
                "endpoint": "https://fcm.googleapis.com/fcm/send/kiem-tra",
                "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                         "auth": "tBHItJI5svbpez7KI4CCXg"}}


def api_bodies(sample: dict[str, object]) -> dict[tuple[str, str], dict]:
    """A valid body for each API route, so that validation never hides the authorization answer."""
    out = {}
    for r in ROUTES:
        if r.body is None:
            continue
        body = {}
        for name, f in r.body.model_fields.items():
            if f.is_required():
                assert name in BODY_SAMPLES or name in sample, f"{r.path}: add a sample for the body field '{name}'"
                body[name] = sample.get(name, BODY_SAMPLES.get(name))
        out[("/api/v1" + r.path, r.method.upper())] = body
    return out


def refused(resp) -> bool:
    if resp.status_code in (401, 403):
        return True
    return resp.status_code in (301, 302, 303, 307, 308) and resp.headers.get("Location", "").split("?")[0].endswith("/login")


def prepare(make_app, who: str):
    """A fresh app, a client acting as `who`, and real ids for the URL parameters."""
    app, demos = make_app()
    demo = demos["demo"]
    client = app.test_client()
    kiosk = demo.device_headers(DEVICES[KIOSK])
    issued = client.post("/api/v1/tickets", json={"service": "HT"}, headers=kiosk).json
    client.post("/api/v1/tickets", json={"service": "HT"}, headers=kiosk)
    called = client.post("/api/v1/counters/1/next", headers=demo.clerk(1).headers).json
    assert called["ticket"]["id"] == issued["id"]
    with app.extensions["motcua"].db.read() as s:
        call_id = s.scalar(select(TicketEvent.id).where(TicketEvent.kind == "called"))
        clerk4 = s.scalar(select(User.id).where(User.username == "demo-clerk4"))  # a user any manager may edit
    sample = {"public_id": issued["public_id"], "ticket": issued["public_id"], "job_id": issued["print_job"], "call_id": call_id,
              "number": 1, "uid": clerk4}
    # Everyone carries a valid CSRF token (anyone can get one from the sign-in page), so what
    # answers is the authorization check and not the CSRF one.
    if who in STAFF:
        csrf = login(client, demo.clerk(1) if who == CLERK else demo.staff[who])
    else:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    headers = {"X-CSRFToken": csrf}
    if who in DEVICES:
        headers.update(demo.device_headers(DEVICES[who]))
    return app, client, headers, sample


@pytest.mark.parametrize("who", [ANON, KIOSK, DISPLAY, BOARD, PAD, CLERK, MANAGER, ADMIN])
def test_role_matrix_over_every_route(make_app, who: str) -> None:
    app, client, headers, sample = prepare(make_app, who)
    bodies = api_bodies(sample)
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule == "/logout", r.rule))  # sign out last
    problems = []
    checked = 0
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = fill(rule.rule, sample)
            policy = policy_for(rule.rule, method)
            kwargs = {"headers": headers}
            if method != "GET":
                body = bodies.get((rule.rule, method))
                kwargs["json" if body is not None or rule.rule.startswith("/api/") else "data"] = body if body is not None else {}
            resp = client.open(url, method=method, **kwargs)
            checked += 1
            if resp.status_code >= 500:
                problems.append(f"{method} {url}: {resp.status_code} (server error)")
            elif who in policy.refused and not refused(resp):
                problems.append(f"{method} {url}: {resp.status_code}, expected a refusal for {who}")
            elif who in policy.allowed and refused(resp):
                problems.append(f"{method} {url}: refused ({resp.status_code}) for {who}, who should get through")
    assert checked > 60
    assert not problems, "\n".join(problems)


def test_every_policy_prefix_still_has_a_route(app) -> None:
    """A stale entry would silently stop covering anything."""
    rules = [(r.rule, m) for r in app.url_map.iter_rules() for m in r.methods]
    for prefix, _ in POLICIES:
        path, _, only = prefix.partition("=")
        assert any((rule == path if (path == "/" or only) else rule.startswith(path)) and (not only or m == only) for rule, m in rules), prefix


# ---- public ids --------------------------------------------------------------------------


def test_public_ticket_ids_are_unguessable(client, demo) -> None:
    ids = []
    for i in range(60):
        r = client.post("/api/v1/tickets", json={"service": ("HT", "CT", "KD")[i % 3]}, headers=demo.kiosk)
        assert r.status_code == 201
        ids.append(r.json)
    public = [t["public_id"] for t in ids]
    assert len(set(public)) == len(public)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22,}", p) for p in public)  # >= 128 random bits, URL-safe
    # No shared prefixes or counters between consecutive tickets: the ids look like noise.
    for a, b in zip(public, public[1:], strict=False):  # consecutive pairs
        assert os.path.commonprefix([a, b]).__len__() < 4
    chars = Tally("".join(public))
    entropy = -sum(n / sum(chars.values()) * math.log2(n / sum(chars.values())) for n in chars.values())
    assert entropy > 5.5  # close to log2(64) = 6 bits per character
    for t in ids[:5]:
        # The QR leads to /t/<public id>; the database id or the number never appear in it.
        assert t["status_url"].endswith("/t/" + t["public_id"])
        assert client.get(f"/api/v1/tickets/{t['id']}").status_code == 404
        assert client.get(f"/t/{t['id']}").status_code == 404
        assert client.get(f"/api/v1/tickets/{t['code']}").status_code == 404


def test_no_public_route_takes_a_sequential_id(app) -> None:
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if policy_for(rule.rule, method) is PUBLIC:
                assert "<int:" not in rule.rule, f"{rule.rule} is public and takes a sequential id"


# ---- the secret key ---------------------------------------------------------------------


def test_secret_key_is_created_0600_in_the_instance_and_never_committed(tmp_path) -> None:
    from motcua.app import create_app
    from tests.support.env import DEMO_CONFIG

    instance = tmp_path / "fresh"
    app = create_app(DEMO_CONFIG, database_url=f"sqlite:///{tmp_path}/m.db", instance=instance, testing=True, plugins=False)
    key = instance / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(app.config["SECRET_KEY"]) >= 64 and key.read_text().strip() == app.config["SECRET_KEY"]
    again = create_app(DEMO_CONFIG, database_url=f"sqlite:///{tmp_path}/m.db", instance=instance, testing=True, plugins=False)
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]  # sessions survive a restart
    other = create_app(DEMO_CONFIG, database_url=f"sqlite:///{tmp_path}/n.db", instance=tmp_path / "other", testing=True, plugins=False)
    assert other.config["SECRET_KEY"] != app.config["SECRET_KEY"]
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.splitlines()
    assert not [f for f in files if "secret_key" in f or f.startswith("instance/")]
    ignored = subprocess.run(["git", "check-ignore", "-q", "instance/secret_key"], cwd=REPO)
    assert ignored.returncode == 0, "instance/ must be ignored by git"
    assert app.config["SECRET_KEY"] not in (REPO / "config.toml").read_text()


# ---- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/kiosk/", "/display/", "/counter/display", "/api/v1/services", "/healthz", "/t/nope"])
def test_security_headers(client, path: str) -> None:
    r = client.get(path)
    assert r.status_code < 500
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["Referrer-Policy"] == "same-origin"
    csp = dict(part.strip().split(" ", 1) for part in r.headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'self'" and csp["connect-src"] == "'self'" and csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'self'" and csp["form-action"] == "'self'"
    assert "http" not in r.headers["Content-Security-Policy"]  # no other origin anywhere
    assert csp["script-src"] == "'self'"  # no inline script, no eval


def test_session_cookie_is_http_only_and_same_site(client, demo) -> None:
    login(client, demo.manager)
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


# ---- rate limits on issuing --------------------------------------------------------------


def test_issuing_is_limited_per_device(make_app, monkeypatch) -> None:
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_DEVICE", "3/minute")
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_ADDRESS", "off")
    app, demos = make_app()
    demo = demos["demo"]
    client = app.test_client()
    codes = [client.post("/api/v1/tickets", json={"service": "CT"}, headers=demo.kiosk).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    r = client.post("/api/v1/tickets", json={"service": "CT"}, headers=demo.kiosk)
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_requests"
    assert r.json["error"]["message"].startswith("Quá nhiều yêu cầu") and r.json["error"]["message_en"].startswith("Too many")
    assert int(r.headers["Retry-After"]) > 0
    # Another device (here a clerk) at the same address is counted apart; other routes are not limited.
    assert client.post("/api/v1/tickets", json={"service": "CT"}, headers=demo.clerk(1).headers).status_code == 201
    assert client.get("/api/v1/services").status_code == 200
    with app.extensions["motcua"].db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 4  # nothing was issued past the limit


def test_issuing_is_limited_per_address(make_app, monkeypatch) -> None:
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_DEVICE", "off")
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_ADDRESS", "4/minute")
    app, demos = make_app()
    demo = demos["demo"]
    client = app.test_client()
    devices = [demo.kiosk, demo.clerk(1).headers, demo.clerk(2).headers, demo.manager.headers, demo.kiosk]
    codes = [client.post("/api/v1/tickets", json={"service": "CT"}, headers=h).status_code for h in devices]
    assert codes == [201, 201, 201, 201, 429]
    other = client.post("/api/v1/tickets", json={"service": "CT"}, headers=demo.kiosk, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 201


def test_issue_limits_defaults_off_and_errors(make_app, monkeypatch) -> None:
    from motcua.config import ConfigError
    from motcua.limits import ISSUE_LIMITS, issue_limit

    monkeypatch.delenv("MOTCUA_ISSUE_LIMIT_DEVICE", raising=False)
    assert issue_limit("MOTCUA_ISSUE_LIMIT_DEVICE") == ISSUE_LIMITS["MOTCUA_ISSUE_LIMIT_DEVICE"] == "30/minute"
    assert ISSUE_LIMITS["MOTCUA_ISSUE_LIMIT_ADDRESS"] == "120/minute"
    assert issue_limit("MOTCUA_ISSUE_LIMIT_DEVICE", testing=True) is None
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_DEVICE", "off")
    assert issue_limit("MOTCUA_ISSUE_LIMIT_DEVICE") is None
    monkeypatch.setenv("MOTCUA_ISSUE_LIMIT_DEVICE", "lots")
    with pytest.raises(ConfigError, match="MOTCUA_ISSUE_LIMIT_DEVICE='lots'"):
        make_app()


def test_a_real_kiosk_pace_is_never_limited(make_app, monkeypatch) -> None:
    """The defaults: a kiosk issuing a ticket every two seconds for a minute is never refused."""
    for name in ("MOTCUA_ISSUE_LIMIT_DEVICE", "MOTCUA_ISSUE_LIMIT_ADDRESS"):
        monkeypatch.setenv(name, {"MOTCUA_ISSUE_LIMIT_DEVICE": "30/minute", "MOTCUA_ISSUE_LIMIT_ADDRESS": "120/minute"}[name])
    app, demos = make_app()
    client = app.test_client()
    codes = {client.post("/api/v1/tickets", json={"service": "CT"}, headers=demos["demo"].kiosk).status_code for _ in range(30)}
    assert codes == {201}


def test_huge_integers_in_urls_are_not_found_not_a_crash(client, demo) -> None:
    """Found by schemathesis: /api/v1/counters/2867311150063870279680/open overflowed the
    database driver (500). Every <int:...> is bounded to what an INTEGER column holds."""
    rules = [r for r in client.application.url_map.iter_rules() if "<int:" in r.rule]
    assert rules
    for rule in rules:
        for value in (2**31, 10**20):
            url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m, value=value: str(value) if m.group(1) == "int" else "x", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                r = client.open(url, method=method, headers=demo.manager.headers)
                assert r.status_code == 404, (method, url, r.status_code)
    assert client.post("/api/v1/counters/2147483647/next", headers=demo.manager.headers).status_code == 404  # in range: no such counter


# ---- several offices on one server ---------------------------------------------------------


def test_one_office_never_sees_or_acts_on_another(make_app) -> None:
    """Two offices with the same field codes and counter numbers: every principal of office A
    is refused (as if B did not exist) when it names office B, and its own actions stay in A."""
    from tests.support.env import TWO_OFFICES

    app, demos = make_app(TWO_OFFICES)
    a, b = demos["phuong-a"], demos["xa-b"]
    client = app.test_client()
    b_ticket = client.post("/api/v1/tickets", json={"service": "HT"}, headers=b.device_headers("Kiosk B")).json
    kiosk_a, display_a = a.device_headers("Kiosk A"), a.device_headers("Màn hình A")
    for headers in (kiosk_a, a.clerk(1).headers, a.manager.headers):
        r = client.post("/api/v1/tickets", json={"service": "HT", "office": "xa-b"}, headers=headers)
        assert r.status_code == 404 and r.json["error"]["code"] == "unknown_office"
    for headers in (display_a, a.clerk(1).headers, a.manager.headers):
        assert client.get("/api/v1/queue?office=xa-b", headers=headers).status_code == 404
    assert client.post("/api/v1/counters/1/next?office=xa-b", headers=a.clerk(1).headers).status_code == 404
    assert client.post("/api/v1/counters/1/next?office=xa-b", headers=a.manager.headers).status_code == 404
    assert client.get("/api/v1/reports/summary?office=xa-b", headers=a.manager.headers).status_code in (403, 404)
    # A's clerk calling at "counter 1" calls in A: B's waiting ticket is untouched.
    mine = client.post("/api/v1/tickets", json={"service": "HT"}, headers=kiosk_a).json
    called = client.post("/api/v1/counters/1/next", headers=a.clerk(1).headers).json
    assert called["ticket"]["id"] == mine["id"]
    assert client.get(f"/api/v1/tickets/{b_ticket['public_id']}").json["status"] == "waiting"
    queue_a = client.get("/api/v1/queue", headers=display_a).json
    assert queue_a["office"]["code"] == "phuong-a"
    assert all(c["ticket"] is None or c["ticket"]["id"] != b_ticket["id"] for c in queue_a["counters"])
    # B's kiosk numbers its own series: the same field code, its own A001.
    assert b_ticket["code"] == mine["code"] == "A001"


def test_public_ids_reach_only_who_holds_the_ticket(app, demo) -> None:
    """A ticket's public id lets its holder follow and cancel it. The change stream and the
    snapshot go to every display and to every citizen's status page of the office, so they must
    never carry one: the kiosk, the status page and the rating pad get it by their own requests."""
    client = app.test_client()
    sent = []
    app.extensions["motcua"].db.subscribe(sent.extend)
    kiosk, clerk = demo.device_headers(DEVICES[KIOSK]), demo.clerk(1).headers
    issued = [client.post("/api/v1/tickets", json={"service": "HT"}, headers=kiosk).json for _ in range(3)]
    ids = [t["public_id"] for t in issued]
    assert len(set(ids)) == 3 and all(len(i) >= 16 for i in ids)
    client.post("/api/v1/counters/1/next", headers=clerk)
    client.post("/api/v1/counters/1/start", headers=clerk)
    client.post("/api/v1/counters/1/finish", headers=clerk)
    client.post("/api/v1/counters/1/next", headers=clerk)
    client.post(f"/api/v1/tickets/{ids[2]}/cancel", json={})

    broadcast = [repr(c.data) for c in sent] + [repr(client.get("/api/v1/queue", headers=demo.device_headers(DEVICES[DISPLAY])).json)]
    assert {c.kind for c in sent} >= {"ticket.issued", "ticket.called", "ticket.finished", "ticket.cancelled"}
    assert not [i for i in ids if any(i in text for text in broadcast)]
    assert not any("public_id" in text for text in broadcast)
    # Those who hold it still get it: the citizen's status page and the pad that must name it.
    assert client.get(f"/api/v1/tickets/{ids[1]}").json["public_id"] == ids[1]
    pad = client.get("/counter/api/device", headers=demo.device_headers(DEVICES[PAD])).json
    assert pad["pending"]["ticket"]["public_id"] == ids[0]
