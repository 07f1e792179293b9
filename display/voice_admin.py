"""The voice page for managers: hear every clip, replace it with a recording, go back to the
default, and preview a whole announcement.

Uploads go to `<instance>/voicepack/<office code>/` (see display/packs.py); every change is
written to the audit log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, abort, redirect, render_template, request, send_file, session, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from display import packs
from display.announce import (
    CHIME,
    DEFAULT_PACK_DIR,
    KNOWN_TOKENS,
    MAX_UPLOAD_BYTES,
    ClipError,
    MissingClipsError,
    VoicePackError,
    read_manifest,
    save_override_clip,
    validate_clip,
)
from display.voice import announcement_text
from motcua.auth import login_required_page
from motcua.engine import clock
from motcua.models import AuditLog, Office, Role
from motcua.state import state

log = logging.getLogger(__name__)
bp = Blueprint("display_voice", __name__, url_prefix="/display/voice", template_folder="templates")
MESSAGE_KEY = "display.voice.message"
SAMPLE_CODE, SAMPLE_COUNTER = "A001", 1


@dataclass(frozen=True)
class Clip:
    token: str
    text: str
    overridden: bool


GROUPS: list[tuple[str, LazyString]] = [
    ("phrases", _l("Câu mời và chuông")),
    ("digits", _l("Chữ số")),
    ("numbers", _l("Từ đọc số")),
    ("letters", _l("Chữ cái (tiền tố của số)")),
    ("words", _l("Từ đơn (dùng khi sửa mẫu câu)")),
]


def _group_of(token: str) -> str:
    if token in (CHIME, "xin_moi", "den_quay"):
        return "phrases"
    if token.isdigit():
        return "digits"
    if token.startswith("letter_"):
        return "letters"
    if token.startswith("w_"):
        return "words"
    return "numbers"


def _sort_key(token: str) -> tuple:
    order = {CHIME: 0, "xin_moi": 1, "den_quay": 2}
    numbers = ["muoi", "muoi_", "mot_", "tu", "lam", "linh", "tram", "nghin", "trieu", "ty"]
    if token in order:
        return (order[token], "")
    if token in numbers:
        return (numbers.index(token), "")
    return (99, token)


def _office() -> Office:
    """The manager's office; an admin of every office picks one with ?office= (or the form)."""
    code = request.values.get("office")
    with state().db.read() as s:
        if current_user.office_id is not None:
            office = s.get(Office, current_user.office_id)
        elif code:
            office = s.scalar(select(Office).where(Office.code == code))
        else:
            office = s.scalar(select(Office).order_by(Office.id))
        if office is None:
            abort(404)
        s.expunge(office)
        return office


def _offices_for_admin() -> list[tuple[str, str]]:
    if current_user.office_id is not None:
        return []
    with state().db.read() as s:
        return [(o.code, o.name) for o in s.scalars(select(Office).order_by(Office.id))]


def _clips(office: Office) -> dict[str, list[Clip]]:
    manifest = read_manifest(DEFAULT_PACK_DIR).get("tokens", {})
    folder = packs.override_dir(state().instance, office.code)
    overridden = {p.stem for p in folder.glob("*.wav")} if folder.is_dir() else set()
    groups: dict[str, list[Clip]] = {key: [] for key, _ in GROUPS}
    for token in sorted(KNOWN_TOKENS, key=_sort_key):
        text = str(_l("Tiếng chuông (hai nốt)")) if token == CHIME else manifest.get(token, {}).get("text") or token
        groups[_group_of(token)].append(Clip(token, text, token in overridden))
    return groups


def _say(kind: str, vi: str, en: str) -> None:
    session[MESSAGE_KEY] = {"kind": kind, "vi": vi, "en": en}


def _audit(office: Office, token: str, action: str, changes: dict | None = None) -> None:
    with state().db.write() as s:
        s.add(AuditLog(office_id=office.id, user_id=current_user.id, at=clock.now(), entity="voice_clip", entity_id=token, action=action, changes=changes))


def _back(office: Office, anchor: str = ""):
    args = {"office": office.code} if current_user.office_id is None else {}
    return redirect(url_for("display_voice.page", **args) + anchor)


def _token_or_404(token: str) -> str:
    if token not in KNOWN_TOKENS:
        abort(404)
    return token


@bp.get("")
@login_required_page(Role.manager, Role.admin)
def page():
    office = _office()
    speech = packs.office_speech(office.settings)
    problems: list[str] = []
    template_problem: tuple[str, str] | None = None
    try:
        pack = packs.pack_for(state().instance, office.code)
        problems = list(pack.problems)
        try:
            packs.announcement_wav(state().instance, office.code, office.settings, SAMPLE_CODE, SAMPLE_COUNTER, repeat=1)
        except MissingClipsError as exc:
            template_problem = (exc.message_vi, str(exc))
        except ValueError as exc:
            template_problem = ("Mẫu câu không hợp lệ.", str(exc))
    except VoicePackError as exc:
        problems = [str(exc)]

    preview = None
    code = (request.args.get("code") or "").strip()
    counter = (request.args.get("counter") or "").strip()
    if code or counter:
        preview = _preview_info(office, code, counter, speech)

    args = {"office": office.code} if current_user.office_id is None else {}
    return render_template(
        "display/voice.html",
        office=office,
        offices=_offices_for_admin(),
        office_args=args,
        groups=[(key, title, items) for (key, title), items in zip(GROUPS, _clips(office).values(), strict=True)],
        speech=speech,
        problems=problems,
        template_problem=template_problem,
        preview=preview,
        code=code or SAMPLE_CODE,
        counter=counter or str(SAMPLE_COUNTER),
        message=session.pop(MESSAGE_KEY, None),
        max_mb=MAX_UPLOAD_BYTES // 1024 // 1024,
    )


def _preview_info(office: Office, code: str, counter: str, speech: packs.Speech) -> dict:
    if not code or not counter:
        return {"error": ("Hãy nhập cả số thứ tự và số quầy.", "Enter both a ticket number and a counter.")}
    try:
        text = announcement_text(speech.template, code, counter)
        packs.announcement_wav(state().instance, office.code, office.settings, code, counter)
    except MissingClipsError as exc:
        return {"error": (f"Giọng đọc thiếu đoạn ghi âm: {exc.message_vi}.", f"The voice pack lacks clips: {exc}.")}
    except ValueError as exc:
        return {"error": ("Không đọc được số này (chỉ dùng chữ cái và chữ số).", f"Cannot read this: {exc}.")}
    args = {"code": code, "counter": counter}
    if current_user.office_id is None:
        args["office"] = office.code
    return {"text": text, "shown": packs.display_text(speech.template, code, counter), "url": url_for("display_voice.preview_wav", **args)}


@bp.get("/preview.wav")
@login_required_page(Role.manager, Role.admin)
def preview_wav():
    office = _office()
    code = (request.args.get("code") or "").strip()
    counter = (request.args.get("counter") or "").strip()
    if not code or not counter:
        abort(400)
    try:
        path = packs.announcement_wav(state().instance, office.code, office.settings, code, counter)
    except (MissingClipsError, ValueError):
        abort(422)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


@bp.get("/clip/<token>.wav")
@login_required_page(Role.manager, Role.admin)
def clip_wav(token: str):
    """The clip as the hall hears it (the upload if there is one), or ?source=default."""
    office = _office()
    _token_or_404(token)
    override = packs.override_dir(state().instance, office.code) / f"{token}.wav"
    path = override if override.is_file() and request.args.get("source") != "default" else DEFAULT_PACK_DIR / f"{token}.wav"
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


@bp.post("/clip/<token>")
@login_required_page(Role.manager, Role.admin)
def upload(token: str):
    office = _office()
    _token_or_404(token)
    file = request.files.get("clip")
    if file is None or not file.filename:
        _say("error", "Hãy chọn một tệp WAV.", "Choose a WAV file.")
        return _back(office, f"#clip-{token}")
    data = file.read(MAX_UPLOAD_BYTES + 1)
    ok, about_vi, about_en = validate_clip(data)
    if not ok:
        _say("error", f"“{token}”: {about_vi}", f"“{token}”: {about_en}")
        return _back(office, f"#clip-{token}")
    try:
        save_override_clip(packs.override_dir(state().instance, office.code), token, data)
    except ClipError as exc:  # e.g. nothing left once silence is trimmed
        _say("error", f"“{token}”: {exc.message_vi}.", f"“{token}”: {exc.message_en}.")
        return _back(office, f"#clip-{token}")
    _audit(office, token, "upload", {"file": Path(file.filename).name[:200], "bytes": len(data)})
    log.info("voice clip %s of %s replaced by %s", token, office.code, current_user.username)
    _say("ok", f"Đã thay đoạn “{token}” bằng bản ghi âm mới. {about_vi}", f"Clip “{token}” replaced by the new recording. {about_en}")
    return _back(office, f"#clip-{token}")


@bp.post("/clip/<token>/revert")
@login_required_page(Role.manager, Role.admin)
def revert(token: str):
    office = _office()
    _token_or_404(token)
    path = packs.override_dir(state().instance, office.code) / f"{token}.wav"
    if path.is_file():
        path.unlink()
        _audit(office, token, "revert")
        _say("ok", f"Đoạn “{token}” đã trở về giọng mặc định.", f"Clip “{token}” is back to the default voice.")
    return _back(office, f"#clip-{token}")
