"""The demo office's people and devices: a user of each role and a token for each device,
and signing in through the real form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from motcua.engine import clock
from motcua.models import ApiToken, Counter, Device, Role, User
from motcua.security import hash_password, new_token, token_hash
from motcua.seed import seed


@dataclass
class Staff:
    username: str
    password: str
    token: str
    role: Role

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Demo:
    """An office with a user of each role and a token for each device."""

    office_code: str
    staff: dict[str, Staff] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)  # device name -> token

    def device_headers(self, name: str) -> dict:
        return {"Authorization": f"Bearer {self.devices[name]}"}

    @property
    def kiosk(self) -> dict:
        return self.device_headers(next(n for n in self.devices if n.startswith("Kiosk")))

    def clerk(self, counter: int) -> Staff:
        return self.staff[f"clerk{counter}"]

    @property
    def manager(self) -> Staff:
        return self.staff["manager"]

    @property
    def admin(self) -> Staff:
        return self.staff["admin"]


def populate(db, config) -> dict[str, Demo]:
    """Seed config offices, then give each a manager, an admin, a clerk per counter and device tokens."""
    demos: dict[str, Demo] = {}
    with db.write() as s:
        offices = seed(s, config)
        for office in offices:
            demo = Demo(office.code)
            people = [("admin", Role.admin, None), ("manager", Role.manager, None)]
            people += [(f"clerk{c.number}", Role.clerk, c) for c in s.scalars(select(Counter).where(Counter.office_id == office.id))]
            for key, role, counter in people:
                username = f"{office.code}-{key}"
                password = f"matkhau-{username}"
                user = User(username=username, full_name=f"{key.title()} {office.code}", role=role, office_id=office.id,
                            counter_id=counter.id if counter else None, password_hash=hash_password(password), created_at=clock.now())
                s.add(user)
                s.flush()
                token = new_token("usr")
                s.add(ApiToken(user_id=user.id, name="test", token_hash=token_hash(token), created_at=clock.now()))
                demo.staff[key] = Staff(username, password, token, role)
            for d in s.scalars(select(Device).where(Device.office_id == office.id)):
                token = new_token("dev")
                d.token_hash = token_hash(token)
                demo.devices[d.name] = token
            demos[office.code] = demo
    return demos


def login(client, staff: Staff) -> str:
    """Sign in through the real form (CSRF included); returns the CSRF token for API calls."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"username": staff.username, "password": staff.password, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)
    # Signing in starts a new session with a new CSRF token.
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
