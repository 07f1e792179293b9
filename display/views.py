"""The hall display page, what its script asks for, its media files and announcement audio."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_file, url_for
from flask_babel import get_locale
from sqlalchemy import select

from display import media, packs
from display.announce import MissingClipsError, VoicePackError
from display.strings import hall_strings
from motcua import auth
from motcua.auth import STAFF, Principal
from motcua.engine.errors import QueueError
from motcua.i18n import english
from motcua.json_errors import use_json_errors
from motcua.models import Counter, Device, DeviceKind, Office, Ticket, TicketEvent
from motcua.state import state

log = logging.getLogger(__name__)
bp = Blueprint("display", __name__, url_prefix="/display", template_folder="templates", static_folder="static", static_url_path="/static")

HALL = frozenset({DeviceKind.display})
# Who may fetch announcement audio: hall displays, boards above counters (the agent), staff.
AUDIO_DEVICES = frozenset({DeviceKind.display, DeviceKind.counter_display})
DEFAULT_SLIDE_SECONDS = 12
CALL_KINDS = ("called", "recalled")


def _lang() -> str:
    return str(get_locale() or "vi")


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/")
def hall():
    """Public page: the device token lives in the browser's local storage (set once with ?token=)."""
    try:
        slide = int(request.args.get("slide") or DEFAULT_SLIDE_SECONDS)
    except ValueError:
        slide = DEFAULT_SLIDE_SECONDS
    lang = _lang()
    strings = hall_strings()
    config = {
        "lang": lang,
        "strings": strings,
        "strings_en": english(hall_strings) if lang == "vi" else None,
        "slide_seconds": min(max(slide, 3), 600),
        "grace_ms": 3000,
        "urls": {
            "me": url_for("display.me"),
            "media": url_for("display.media_list"),
            "audio": url_for("display.call_audio", call_id=0).replace("/0.wav", "/__ID__.wav"),
        },
    }
    return _no_store(Response(render_template("display/hall.html", config=config, s=strings, en=config["strings_en"])))


def _device_principal(kinds: frozenset[DeviceKind], roles: frozenset = frozenset()) -> Principal:
    """A device token from ?token= (audio elements cannot send headers) or the usual ways."""
    token = request.args.get("token")
    if token:
        with state().db.read() as s:
            p = auth.principal_from_token(s, token)
        if p is None:
            raise QueueError("bad_token", "Mã truy cập không hợp lệ hoặc đã bị thu hồi.", "The token is invalid or revoked.", status=401)
        if (p.device_kind in kinds) or (p.role is not None and p.role in roles):
            return p
        raise QueueError("forbidden", "Bạn không có quyền làm việc này.", "You are not allowed to do this.", status=403)
    return auth.check(roles=roles, devices=kinds)


def _office_media(office: Office) -> list[dict]:
    instance = state().instance
    return [
        {**item.as_dict(), "url": url_for("display.media_file", office_code=office.code, name=item.name, v=item.version)}
        for item in media.list_media(instance, office.code)
    ]


@bp.get("/api/me")
def me():
    """Who this display is, its office, how announcements read, and its slides."""
    p = _device_principal(HALL)
    with state().db.read() as s:
        device = s.get(Device, p.device_id)
        office = s.get(Office, device.office_id)
        speech = packs.office_speech(office.settings)
        return _no_store(jsonify(
            device=device.name,
            office={"code": office.code, "name": office.name, "timezone": office.timezone},
            announcement_template=speech.template,
            announcement_repeat=speech.repeat,
            media=_office_media(office),
        ))


@bp.get("/api/media")
def media_list():
    p = _device_principal(HALL)
    with state().db.read() as s:
        office = s.get(Office, p.office_id)
        return _no_store(jsonify(media=_office_media(office)))


@bp.get("/media/<office_code>/<name>")
def media_file(office_code: str, name: str):
    """Public, like the hall itself: procedure guides shown to everyone who walks in."""
    try:
        path = media.media_file(state().instance, office_code, name)
    except ValueError:
        path = None
    if path is None:
        abort(404)
    _, mimetype = media.mimetype_of(path.name)  # type: ignore[misc]
    resp = send_file(path, mimetype=mimetype, conditional=True, max_age=300)
    resp.headers["Content-Security-Policy"] = "default-src 'none'"
    return resp


@bp.get("/audio/<int:call_id>.wav")
def call_audio(call_id: int):
    """The announcement of one call (chime, then the template read `repeat` times), cached."""
    p = _device_principal(AUDIO_DEVICES, STAFF)
    with state().db.read() as s:
        row = s.execute(
            select(TicketEvent, Ticket.code, Counter.number, Office)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .join(Office, Office.id == TicketEvent.office_id)
            .outerjoin(Counter, Counter.id == TicketEvent.counter_id)
            .where(TicketEvent.id == call_id)
        ).first()
        # Another office's call is "not found": a display need not learn which ids exist.
        if row is None or row[0].kind not in CALL_KINDS or row[2] is None or not p.may_see_office(row[0].office_id):
            raise QueueError("unknown_call", "Không có lượt gọi này.", "There is no such call.", status=404)
        _, code, counter_number, office = row
        office_code, settings = office.code, dict(office.settings or {})
    try:
        path = packs.announcement_wav(state().instance, office_code, settings, code, counter_number)
    except MissingClipsError as exc:
        log.warning("announcement of call %s: %s", call_id, exc)
        raise QueueError("voice_missing", f"Giọng đọc thiếu đoạn ghi âm: {exc.message_vi}.", f"The voice pack lacks clips: {exc}.", status=409) from None
    except (ValueError, VoicePackError) as exc:
        log.error("announcement of call %s: %s", call_id, exc)
        raise QueueError("voice_error", "Không tạo được lời mời: mẫu câu hoặc giọng đọc bị lỗi.", f"Cannot build the announcement: {exc}", status=500) from None
    resp = send_file(path, mimetype="audio/wav", conditional=True, etag=path.stem, max_age=3600)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


use_json_errors(bp)  # engine errors and database outages answer as the API does
