"""The kiosk's touch page, the QR code images, and the public ticket status page behind the QR."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import select

from kiosk import icons, qr
from kiosk.strings import kiosk_strings, setup_text, status_strings
from motcua.engine import clock, remote, tickets
from motcua.engine.errors import QueueError
from motcua.i18n import english, in_locale
from motcua.models import Device, Office, Service
from motcua.state import state

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static", static_url_path="/kiosk/static")

# Defaults for settings an office created before they existed may lack.
DEFAULT_RESET_SECONDS = 20


def _lang() -> str:
    return str(get_locale() or "vi")


def kiosk_voice(office: Office | None, device: Device | None) -> bool:
    """Spoken guidance is a per-kiosk choice in config.toml (`voice = true` on the device)."""
    if office is None or device is None:
        return False
    for oc in state().config.offices:
        if oc.code == office.code:
            return any(d.name == device.name and d.kind == "kiosk" and d.voice for d in oc.devices)
    return False


def kiosk_settings(office: Office | None, device: Device | None = None) -> dict:
    """The office settings the kiosk script needs (the rest stays on the server)."""
    settings = (office.settings if office else None) or {}
    return {
        "office": {"code": office.code, "name": office.name} if office else None,
        "kiosk_reset_seconds": int(settings.get("kiosk_reset_seconds") or DEFAULT_RESET_SECONDS),
        "results_desk": settings.get("results_service") or None,
        "voice": kiosk_voice(office, device),
    }


@bp.get("/kiosk/")
def kiosk_page():
    # The page itself is public (a kiosk has no session): the device token lives in the
    # kiosk's local storage and goes with every API call. Office settings here are for the
    # office named by ?office= or the first one; /kiosk/api/me corrects them for the device.
    with state().db.read() as s:
        code = request.args.get("office")
        query = select(Office).order_by(Office.id)
        if code:
            query = query.where(Office.code == code)
        office = s.scalars(query.limit(1)).first()
        settings = kiosk_settings(office)
        timezone = office.timezone if office else "Asia/Ho_Chi_Minh"  # the appointment times it shows
        fields = [(sv.code, sv.name) for sv in s.scalars(select(Service).where(Service.office_id == office.id))] if office else []
    icon_url = url_for("kiosk.static", filename="vendor/tabler-icons/")
    lang = _lang()
    config = {
        "lang": lang,
        "settings": settings,
        "strings": kiosk_strings(),
        # A Vietnamese screen shows its important notices in English beneath.
        "strings_en": english(kiosk_strings) if lang == "vi" else None,
        "urls": {
            "services": url_for("api.list_services"),
            "tickets": url_for("api.issue_ticket"),
            "me": url_for("kiosk_api.me"),
            "print_job": url_for("kiosk_api.print_job", job_id=0).removesuffix("0"),
            "qr": url_for("kiosk.qr_svg", public_id="__ID__"),
            "card": url_for("kiosk_api.card"),
            "check_in": url_for("kiosk_api.check_in"),
            "reprint": url_for("kiosk_api.reprint", public_id="__ID__"),
            "page": url_for("kiosk.kiosk_page"),
            "help": url_for("kiosk_api.call_staff"),
            "speech": url_for("kiosk_api.speech"),
            "icons": icon_url,
        },
        "icons": {code: f"{icon_url}{name}.svg" for code, name in icons.field_icons(office.code if office else None, fields).items()},
        "icon_default": f"{icon_url}{icons.GENERIC}.svg",
        "timezone": timezone,
        "code_alphabet": remote.CODE_ALPHABET,
        "code_length": remote.CODE_LENGTH,
    }
    setup = {"vi": in_locale(setup_text, "vi"), "en": in_locale(setup_text, "en")}
    resp = Response(render_template("kiosk/kiosk.html", config=config, settings=settings, setup=setup))
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _ticket_url(public_id: str) -> str:
    with state().db.read() as s:
        try:
            t = tickets.find_ticket(s, public_id)
        except QueueError:
            abort(404)
        return state().status_url(t.public_id)


@bp.get("/kiosk/qr/<public_id>.svg")
def qr_svg(public_id: str):
    resp = Response(qr.svg(_ticket_url(public_id)), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


@bp.get("/kiosk/qr/<public_id>.png")
def qr_png(public_id: str):
    resp = Response(qr.png(_ticket_url(public_id)), mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


@bp.get("/t/<public_id>")
def ticket_page(public_id: str):
    lang = _lang()
    with state().db.read() as s:
        try:
            t = tickets.find_ticket(s, public_id)
        except QueueError:
            # Someone who followed a bad link may read either language: show both.
            text = {"vi": in_locale(_not_found_text, "vi"), "en": in_locale(_not_found_text, "en")}
            resp = Response(render_template("kiosk/not_found.html", text=text), status=404)
            resp.headers["X-Robots-Tag"] = "noindex"
            return resp
        status = tickets.public_status(s, t)
        office = s.get(Office, t.office_id)
        today = clock.business_day(clock.now(), office.timezone).isoformat()
        push_ahead = push_thresholds(office)
    config = {
        "lang": lang,
        "ticket": status,
        "today": today,
        "timezone": office.timezone,
        "strings": status_strings(),
        "urls": {
            "status": url_for("api.ticket_status", public_id=public_id),
            "cancel": url_for("api.cancel_ticket", public_id=public_id),
            **_push_urls(public_id, lang),
        },
        "push_ahead": push_ahead,
    }
    resp = Response(render_template("kiosk/status.html", config=config, t=status, today=today))
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


def _push_urls(public_id: str, lang: str) -> dict[str, str]:
    """Where the "Báo cho tôi" button (static/push.js) subscribes, and its service worker; none
    (no button) when the server sends to no push service."""
    if not state().config.server.push_services:
        return {}
    worker = url_for("kiosk.service_worker")
    return {"push": url_for("api.push_subscribe", public_id=public_id), "push_key": url_for("api.push_key"),
            "service_worker": f"{worker}?lang={lang}", "service_worker_scope": worker.rsplit("/", 1)[0] + "/"}


def push_thresholds(office: Office) -> str:
    """The office's `notify_ahead` as the button's hint says it: "5 và 2"."""
    from flask_babel import gettext as _

    ahead = sorted({int(n) for n in (office.settings or {}).get("notify_ahead") or (5, 2)}, reverse=True)
    return f" {_('và')} ".join(map(str, ahead))


@bp.get("/t/sw.js")
def service_worker():
    """The status page's service worker, from /t/ so that its scope covers every /t/<id>."""
    resp = bp.send_static_file("push-sw.js")
    resp.headers["Content-Type"] = "text/javascript; charset=utf-8"
    resp.headers["Cache-Control"] = "no-cache"  # browsers check for a new one at every visit
    return resp


def _not_found_text() -> dict[str, str]:
    from flask_babel import gettext as _

    return {
        "title": _("Không tìm thấy số thứ tự"),
        "body": _("Địa chỉ này không ứng với phiếu nào. Hãy quét lại mã QR trên phiếu, hoặc hỏi cán bộ tại quầy."),
    }
