"""The display room over HTTP (Flask test client): the hall page and what its script asks for,
slides from the media folder, announcement audio, and the managers' voice page."""

from __future__ import annotations

import io
import math
import re
import wave
from array import array
from pathlib import Path

import pytest
from sqlalchemy import select

from display import packs
from display.announce import KNOWN_TOKENS
from motcua.models import AuditLog, Office
from tests.support.env import TWO_OFFICES

HALL = "Màn hình sảnh"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def call_someone(client, demo, counter: int = 1, service: str = "HT") -> dict:
    """Issue a ticket at the kiosk and call it at the counter; the call as displays see it."""
    r = client.post("/api/v1/tickets", json={"service": service}, headers=demo.kiosk)
    assert r.status_code == 201, r.json
    r = client.post(f"/api/v1/counters/{counter}/next", headers=demo.clerk(counter).headers)
    assert r.status_code == 200, r.json
    queue = client.get("/api/v1/queue", headers=demo.clerk(counter).headers).json
    return queue["recent_calls"][0]


def wav_of(data: bytes) -> tuple[int, int, int]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnchannels(), w.getframerate(), w.getnframes()


def tone_wav(seconds: float = 0.5, rate: int = 44100, freq: float = 220.0, channels: int = 2) -> bytes:
    """A real recording stand-in: a voiced tone with silence around it, stereo 44.1 kHz."""
    n = int(seconds * rate)
    pad = int(0.1 * rate)
    samples = array("h", [0] * pad * channels)
    for i in range(n):
        v = int(12000 * math.sin(2 * math.pi * freq * i / rate) * (0.6 + 0.4 * math.sin(math.pi * i / n)))
        samples.extend([v] * channels)
    samples.extend([0] * pad * channels)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def set_settings(app, code: str, **values) -> None:
    with app.extensions["motcua"].db.write() as s:
        office = s.scalar(select(Office).where(Office.code == code))
        office.settings = {**office.settings, **values}


# ---- the hall page -------------------------------------------------------------------


def test_the_hall_page_is_public_and_never_cached(client) -> None:
    r = client.get("/display/")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    html = r.get_data(as_text=True)
    for needed in ("socket.io.min.js", "queue-client.js", "hall.js", "Mất kết nối", "Chạm để bật âm thanh", "Màn hình sảnh chưa được kích hoạt"):
        assert needed in html
    # The English line under each Vietnamese label, and English first with ?lang=en.
    assert "Now calling" in html
    english = client.get("/display/?lang=en").get_data(as_text=True)
    assert "Connection lost" in english and "Tap to enable sound" in english


def test_the_home_page_links_the_hall_and_the_voice_page(client) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'href="/display/voice"' in html and "Giọng đọc" in html
    assert 'href="/display/"' in html


def test_me_tells_a_hall_display_its_office_and_refuses_others(client, demo) -> None:
    assert client.get("/display/api/me").status_code == 401
    r = client.get("/display/api/me", headers=bearer("dev_nope"))
    assert r.status_code == 401 and r.json["error"]["code"] in ("bad_token", "unauthorized")
    assert client.get("/display/api/me", headers=demo.kiosk).status_code == 403
    assert client.get("/display/api/me", headers=demo.device_headers("Màn hình quầy 1")).status_code == 403
    r = client.get("/display/api/me", headers=demo.device_headers(HALL))
    assert r.status_code == 200
    body = r.json
    assert body["device"] == HALL
    assert body["office"] == {"code": "demo", "name": "Trung tâm Phục vụ hành chính công xã Minh Khai (demo)", "timezone": "Asia/Ho_Chi_Minh"}
    assert body["announcement_template"] == "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
    assert body["announcement_repeat"] == 2
    assert body["media"] == []
    # The token may also come in the query string (set-up links, audio elements).
    assert client.get(f"/display/api/me?token={demo.devices[HALL]}").status_code == 200


# ---- slides and videos ---------------------------------------------------------------


@pytest.fixture
def media_folder(app) -> Path:
    folder = app.extensions["motcua"].instance / "media" / "demo"
    folder.mkdir(parents=True)
    (folder / "02-ket-hon.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42video")
    (folder / "01-khai-sinh.PNG").write_bytes(b"\x89PNG\r\n\x1a\nimage")
    (folder / "03-chung-thuc.webp").write_bytes(b"RIFF....WEBPimage")
    (folder / ".hidden.png").write_bytes(b"secret")
    (folder / "notes.txt").write_text("not media")
    (folder / "script.svg").write_text("<svg onload='alert(1)'/>")
    (folder / "sub").mkdir()
    (folder / "sub" / "x.png").write_bytes(b"nested")
    (app.extensions["motcua"].instance / "motcua-secret.png").write_bytes(b"outside")
    return folder


def test_media_lists_only_slides_and_videos_in_name_order(client, demo, media_folder) -> None:
    media = client.get("/display/api/me", headers=demo.device_headers(HALL)).json["media"]
    assert [(m["name"], m["kind"], m["mimetype"]) for m in media] == [
        ("01-khai-sinh.PNG", "image", "image/png"),
        ("02-ket-hon.mp4", "video", "video/mp4"),
        ("03-chung-thuc.webp", "image", "image/webp"),
    ]
    assert client.get("/display/api/media", headers=demo.device_headers(HALL)).json["media"] == media
    assert client.get("/display/api/media").status_code == 401
    r = client.get(media[1]["url"])
    assert r.status_code == 200 and r.mimetype == "video/mp4" and r.data == b"\x00\x00\x00\x18ftypmp42video"
    assert r.headers["Content-Security-Policy"] == "default-src 'none'"
    # Videos are served with ranges, as players seek.
    part = client.get(media[1]["url"], headers={"Range": "bytes=4-7"})
    assert part.status_code == 206 and part.data == b"ftyp"


@pytest.mark.parametrize(
    "path",
    [
        "/display/media/demo/.hidden.png",
        "/display/media/demo/notes.txt",
        "/display/media/demo/script.svg",
        "/display/media/demo/sub/x.png",
        "/display/media/demo/sub%2Fx.png",
        "/display/media/demo/..%2Fmotcua-secret.png",
        "/display/media/demo/%2E%2E%2F%2E%2E%2Fmotcua-secret.png",
        "/display/media/..%2F..%2Fmotcua-secret.png/x.png",
        "/display/media/DEMO/01-khai-sinh.PNG",
        "/display/media/xa-b/01-khai-sinh.PNG",
        "/display/media/demo/nothing.png",
    ],
)
def test_media_paths_outside_the_office_folder_are_not_served(client, media_folder, path: str) -> None:
    assert client.get(path).status_code == 404


# ---- announcement audio --------------------------------------------------------------


def test_the_audio_of_a_call_is_a_wav_built_once_and_cached(app, client, demo) -> None:
    call = call_someone(client, demo)
    url = f"/display/audio/{call['id']}.wav?token={demo.devices[HALL]}"
    r = client.get(url)
    assert r.status_code == 200, r.data[:300]
    assert r.mimetype == "audio/wav"
    channels, rate, frames = wav_of(r.data)
    assert channels == 1 and rate == 16000
    # Chime + "Xin mời công dân có số thứ tự A một đến quầy số một", read twice: several seconds.
    assert frames / rate > 5
    cache = app.extensions["motcua"].instance / "audio-cache"
    files = list(cache.glob("*.wav"))
    assert len(files) == 1 and files[0].read_bytes() == r.data

    again = client.get(url)
    assert again.data == r.data and list(cache.glob("*.wav")) == files
    assert client.get(url, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    # The header works as well as the query string.
    assert client.get(f"/display/audio/{call['id']}.wav", headers=demo.device_headers(HALL)).data == r.data
    # The board above a counter and staff may fetch it too (the agent plays it).
    assert client.get(f"/display/audio/{call['id']}.wav", headers=demo.device_headers("Màn hình quầy 1")).status_code == 200
    assert client.get(f"/display/audio/{call['id']}.wav", headers=demo.clerk(2).headers).status_code == 200


def test_the_audio_follows_the_offices_repeat_and_template(app, client, demo) -> None:
    call = call_someone(client, demo)
    url = f"/display/audio/{call['id']}.wav"
    twice = wav_of(client.get(url, headers=demo.device_headers(HALL)).data)[2]
    set_settings(app, "demo", announcement_repeat=1)
    once = wav_of(client.get(url, headers=demo.device_headers(HALL)).data)[2]
    assert once < twice * 0.7
    set_settings(app, "demo", announcement_template="Mời công dân số {number} đến quầy {counter}")
    short = client.get(url, headers=demo.device_headers(HALL))
    assert short.status_code == 200 and wav_of(short.data)[2] < once
    # A word the voice pack cannot say is named, in Vietnamese and English.
    set_settings(app, "demo", announcement_template="Kính mời số {number} đến quầy {counter}")
    r = client.get(url, headers=demo.device_headers(HALL))
    assert r.status_code == 409
    assert "kính" in r.json["error"]["message"] and "kính" in r.json["error"]["message_en"]


def test_the_audio_is_refused_to_others(app, client, demo) -> None:
    call = call_someone(client, demo)
    path = f"/display/audio/{call['id']}.wav"
    assert client.get(path).status_code == 401
    assert client.get(path + "?token=dev_nope").status_code == 401
    assert client.get(path, headers=demo.kiosk).status_code == 403
    assert client.get(path, headers=demo.device_headers("Đánh giá quầy 1")).status_code == 403
    assert client.get(f"/display/audio/{call['id'] + 1000}.wav", headers=demo.device_headers(HALL)).status_code == 404
    # An event id that is not a call (the ticket being issued) has no announcement.
    assert client.get(f"/display/audio/{call['id'] - 1}.wav", headers=demo.device_headers(HALL)).status_code == 404


def test_the_audio_is_refused_to_another_offices_display(make_app) -> None:
    app, demos = make_app(config=TWO_OFFICES)
    client = app.test_client()
    a, b = demos["phuong-a"], demos["xa-b"]
    call = call_someone(client, a)
    path = f"/display/audio/{call['id']}.wav"
    r = client.get(path, headers=b.device_headers("Màn hình B"))
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_call"
    assert client.get(path + f"?token={b.devices['Màn hình B']}").status_code == 404
    assert client.get(path, headers=b.manager.headers).status_code == 404
    assert not (app.extensions["motcua"].instance / "audio-cache").exists()  # nothing was built for B
    assert client.get(path, headers=a.device_headers("Màn hình A")).status_code == 200


# ---- the voice page ------------------------------------------------------------------


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, staff) -> None:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": staff.username, "password": staff.password, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


@pytest.fixture
def manager(client, demo):
    sign_in(client, demo.manager)
    return client


def test_the_voice_page_is_for_managers(client, demo) -> None:
    r = client.get("/display/voice")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    sign_in(client, demo.clerk(1))
    assert client.get("/display/voice").status_code == 403


def test_the_voice_page_lists_every_clip_with_its_sound(manager) -> None:
    html = manager.get("/display/voice").get_data(as_text=True)
    for text in ("xin mời công dân có số thứ tự", "đến quầy số", "mươi", "mốt", "lăm", "linh", "nghìn", "tư"):
        assert f'<span class="v-text">{text}</span>' in html
    assert html.count('<tr id="clip-') == len(KNOWN_TOKENS)
    assert "Mặc định" in html and "Đã tải lên" not in html
    r = manager.get("/display/voice/clip/xin_moi.wav")
    assert r.status_code == 200 and wav_of(r.data)[0] == 1
    assert manager.get("/display/voice/clip/nope.wav").status_code == 404
    assert manager.get("/display/voice/clip/..%2Fmanifest.wav").status_code == 404


def test_uploading_a_clip_replaces_it_and_reverting_brings_the_default_back(app, manager, demo) -> None:
    instance = app.extensions["motcua"].instance
    call = call_someone(manager, demo)
    audio_url = f"/display/audio/{call['id']}.wav"
    before = manager.get(audio_url, headers=demo.device_headers(HALL)).data
    default_clip = manager.get("/display/voice/clip/1.wav").data

    token = csrf_of(manager.get("/display/voice").get_data(as_text=True))
    r = manager.post("/display/voice/clip/1", data={"csrf_token": token, "clip": (io.BytesIO(tone_wav()), "mot.wav")},
                     content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"].endswith("#clip-1")
    html = manager.get("/display/voice").get_data(as_text=True)
    assert "Đã thay đoạn “1” bằng bản ghi âm mới" in html and "replaced by the new recording" in html
    assert "sẽ được chuyển sang 16000 Hz" in html  # what was converted, told in both languages
    assert re.search(r'id="clip-1" class="overridden"', html)
    stored = instance / "voicepack" / "demo" / "1.wav"
    assert wav_of(stored.read_bytes())[:2] == (1, 16000)
    assert manager.get("/display/voice/clip/1.wav").data == stored.read_bytes()
    assert manager.get("/display/voice/clip/1.wav?source=default").data == default_clip
    # The hall hears the new voice: the announcement is rebuilt with it.
    after = manager.get(audio_url, headers=demo.device_headers(HALL)).data
    assert after != before
    with app.extensions["motcua"].db.read() as s:
        logs = s.scalars(select(AuditLog).where(AuditLog.entity == "voice_clip")).all()
        assert [(x.entity_id, x.action) for x in logs] == [("1", "upload")]

    r = manager.post("/display/voice/clip/1/revert", data={"csrf_token": token})
    assert r.status_code == 302
    assert not stored.exists()
    assert "đã trở về giọng mặc định" in manager.get("/display/voice").get_data(as_text=True)
    assert manager.get(audio_url, headers=demo.device_headers(HALL)).data == before


@pytest.mark.parametrize(
    ("data", "vi", "en"),
    [
        (b"ID3\x04\x00\x00\x00\x00\x00\x00mp3 data" * 10, "MP3", "MP3"),
        (b"", "Tệp rỗng", "The file is empty"),
        ("silence", "im lặng", "silent"),
        ("too long", "quá dài", "too long"),
    ],
)
def test_a_bad_upload_is_refused_in_both_languages(app, manager, data, vi: str, en: str) -> None:
    if data == "silence":
        wav = tone_wav()
        data = wav[:44] + bytes(len(wav) - 44)  # the header of a real file, every sample zero
    elif data == "too long":
        data = tone_wav(seconds=11, rate=8000, channels=1)
    token = csrf_of(manager.get("/display/voice").get_data(as_text=True))
    r = manager.post("/display/voice/clip/tu", data={"csrf_token": token, "clip": (io.BytesIO(data), "tu.wav")},
                     content_type="multipart/form-data")
    assert r.status_code == 302
    html = manager.get("/display/voice").get_data(as_text=True)
    block = html[html.index('class="v-message error"'):][:600]
    assert vi in block and en in block
    assert not (app.extensions["motcua"].instance / "voicepack" / "demo" / "tu.wav").exists()


def test_uploads_need_the_csrf_token(app, manager) -> None:
    r = manager.post("/display/voice/clip/tu", data={"clip": (io.BytesIO(tone_wav()), "tu.wav")}, content_type="multipart/form-data")
    assert r.status_code == 400
    assert not (app.extensions["motcua"].instance / "voicepack" / "demo" / "tu.wav").exists()
    assert manager.post("/display/voice/clip/nope", data={"csrf_token": csrf_of(manager.get("/display/voice").get_data(as_text=True))}).status_code == 404


def test_the_preview_reads_a_number_for_a_counter(manager) -> None:
    html = manager.get("/display/voice?code=A1005&counter=3").get_data(as_text=True)
    assert "Xin mời công dân có số thứ tự A1005 đến quầy số 3" in html
    assert "A một nghìn không trăm linh năm" in html
    src = re.search(r'<audio controls autoplay src="([^"]+)"', html).group(1).replace("&amp;", "&")
    r = manager.get(src)
    assert r.status_code == 200 and wav_of(r.data)[2] > 16000 * 3
    bad = manager.get("/display/voice?code=A%3F%3F&counter=3").get_data(as_text=True)
    assert "Không đọc được số này" in bad and "Cannot read this" in bad


def test_a_template_the_pack_cannot_read_is_flagged(app, manager) -> None:
    set_settings(app, "demo", announcement_template="Kính mời số {number} đến quầy {counter}")
    html = manager.get("/display/voice").get_data(as_text=True)
    assert "Mẫu câu hiện tại chưa đọc được" in html and "“kính”" in html


def test_an_office_pack_is_reloaded_only_when_its_folder_changes(tmp_path: Path) -> None:
    first = packs.pack_for(tmp_path, "demo")
    assert packs.pack_for(tmp_path, "demo") is first
    folder = packs.override_dir(tmp_path, "demo")
    folder.mkdir(parents=True)
    (folder / "5.wav").write_bytes(tone_wav())
    second = packs.pack_for(tmp_path, "demo")
    assert second is not first and "5" in second.overridden and second.version != first.version
    with pytest.raises(ValueError):
        packs.override_dir(tmp_path, "../etc")
