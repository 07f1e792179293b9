"""Pages and JSON endpoints of the counter room.

- `/counter/`            the clerk's page (staff session); actions go to /api/v1/counters/<n>/...
- `/counter/api/<n>/waiting`  who waits for counter n (staff of that office)
- `/counter/rating`      the citizen's rating pad (rating device token)
- `/counter/display`     the small screen above the counter (counter_display device token)
- `/counter/api/device`  what a pad or counter display needs to know about itself (device token)
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from counter.presets import call_reasons, pause_reasons, rating_reasons
from counter.waiting import waiting_for_counter
from motcua import auth
from motcua.auth import STAFF
from motcua.devices import mark_seen
from motcua.engine import counters, ratings
from motcua.engine.errors import QueueError
from motcua.engine.views import holder_ticket_view
from motcua.json_errors import queue_error
from motcua.models import Counter, Device, DeviceKind, Office, PriorityGroup, Role, Service, User
from motcua.state import state

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates",
               static_folder="static", static_url_path="/static")

PADS = frozenset({DeviceKind.rating, DeviceKind.counter_display})


bp.register_error_handler(QueueError, queue_error)


# ---- the clerk's page -------------------------------------------------------------------


def _page_office(s) -> Office | None:
    """The signed-in user's office; None when an admin of several offices has not picked one."""
    p = auth.current_principal()
    try:
        return auth.office_for(p, s, request.args.get("office"))
    except QueueError as exc:
        if exc.code == "office_required":
            return None
        abort(404)


def _default_counter(user: User, rows: list[Counter]) -> Counter:
    """The counter the clerk holds now, else the one assigned to them, else the first."""
    held = next((c for c in rows if c.clerk_id == user.id and c.status.value != "closed"), None)
    assigned = next((c for c in rows if c.id == user.counter_id), None)
    return held or assigned or rows[0]


@bp.get("/")
@auth.login_required_page(Role.clerk, Role.manager, Role.admin)
def page():
    with state().db.read() as s:
        office = _page_office(s)
        if office is None:
            offices = s.scalars(select(Office).order_by(Office.name)).all()
            return render_template("counter/pick_office.html", offices=offices)
        user = s.get(User, current_user.id)
        rows = s.scalars(select(Counter).where(Counter.office_id == office.id, Counter.active).order_by(Counter.number)).all()
        if not rows:
            return render_template("counter/no_counters.html", office=office), 200
        wanted = request.args.get("n", type=int)
        chosen = next((c for c in rows if c.number == wanted), None) or _default_counter(user, rows)
        services = s.scalars(select(Service).where(Service.office_id == office.id, Service.active).order_by(Service.sort_order, Service.id)).all()
        groups = s.scalars(select(PriorityGroup).where(PriorityGroup.office_id == office.id).order_by(PriorityGroup.sort_order)).all()
        assigned = next((c.number for c in rows if c.id == user.counter_id), None)
        cfg = {
            "office": {"code": office.code, "name": office.name, "timezone": office.timezone},
            "user": {"id": user.id, "name": user.full_name or user.username, "role": user.role.value, "counter": assigned},
            "counter": chosen.number,
            "counters": [{"number": c.number, "name": c.label, "services": [cs.service.code for cs in c.services]} for c in rows],
            "services": [{"code": x.code, "name": x.name, "name_en": x.name_en} for x in services],
            "priority_groups": {g.code: {"name": g.name, "name_en": g.name_en} for g in groups},
            "transfer_position": office.settings.get("transfer_position", "front"),
            "no_show_min_seconds": int(office.settings.get("no_show_min_seconds", 0)),
            "api": f"/api/v1/counters/{chosen.number}/",
            "office_param": office.code,
            "waiting_url": url_for("counter.waiting", number=chosen.number, office=office.code),
            "login_url": url_for("auth.login", next=request.full_path),
            "pause_reasons": pause_reasons(office),
            "call_reasons": call_reasons(office),
        }
        return render_template("counter/clerk.html", cfg=cfg, office=office, counters=rows, chosen=chosen, assigned=assigned)


@bp.get("/api/<int:number>/waiting")
def waiting(number: int):
    """Who waits for this counter (staff of its office only)."""
    p = auth.check(roles=STAFF)
    with state().db.read() as s:
        office = auth.office_for(p, s, request.args.get("office"))
        c = counters.find_counter(s, office, number)
        return jsonify(waiting_for_counter(s, office, c, p.user_id))


# ---- the pads -----------------------------------------------------------------------------


@bp.get("/rating")
def rating_pad():
    return render_template("counter/rating.html")


@bp.get("/display")
def counter_display():
    return render_template("counter/display.html")


@bp.get("/api/device")
def device_info():
    """Who this pad is, its counter, and for rating pads the scale and any rating still open."""
    p = auth.check(devices=PADS)
    with state().db.write() as s:
        d = s.get(Device, p.device_id)
        office = s.get(Office, d.office_id)
        mark_seen(s, d.id)
        c = s.get(Counter, d.counter_id) if d.counter_id else None
        out: dict = {
            "device": {"name": d.name, "kind": d.kind.value},
            "office": {"code": office.code, "name": office.name},
            "counter": {"number": c.number, "name": c.label} if c else None,
        }
        if d.kind == DeviceKind.rating:
            vi, en = ratings.scale(office)
            reasons = rating_reasons(office)
            out["rating"] = {
                "seconds": ratings.window_seconds(office),
                "scale": vi,
                "scale_en": en,
                "low_count": ratings.low_count(office),
                "reasons": reasons,
            }
            found = ratings.pending(s, d)
            out["pending"] = {"ticket": holder_ticket_view(found[0]), "seconds_left": found[1]} if found else None
        return jsonify(out)

