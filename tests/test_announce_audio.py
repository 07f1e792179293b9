"""Announcement audio: the voice pack, clip uploads and the assembled, cached WAV."""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import wave
from array import array
from pathlib import Path

import pytest

from display import announce, audio
from display.announce import (
    CHIME,
    CHIME_GAP_MS,
    DEFAULT_PACK_DIR,
    REPEAT_GAP_MS,
    SEGMENT_GAP_MS,
    WORD_GAP_MS,
    WORD_TOKENS,
    ClipError,
    MissingClipsError,
    VoicePack,
    build_announcement,
    save_override_clip,
    tokens_for_text,
    validate_clip,
)
from display.voice import DEFAULT_TEMPLATE, LETTER_NAMES, announcement_text, number_to_words

RATE = 16000  # the default pack's rate (asserted against its manifest below)

# "Xin mời công dân có số thứ tự 1005 đến quầy số 3", segment by segment, by hand.
SEGMENTS_1005_AT_3 = [["xin_moi"], ["1", "nghin", "0", "tram", "linh", "5"], ["den_quay"], ["3"]]


@pytest.fixture(scope="module")
def pack() -> VoicePack:
    return VoicePack()


# -- helpers -----------------------------------------------------------------------------


def make_wav(
    channels: list[list[float]], rate: int, *, bits: int = 16, floating: bool = False, tag: int | None = None
) -> bytes:
    """A RIFF/WAVE file from per-channel samples in [-1, 1], in any PCM/float layout."""
    frames = list(zip(*channels, strict=True))
    body = bytearray()
    for frame in frames:
        for v in frame:
            if floating:
                body += struct.pack("<f", v)
            elif bits == 8:
                body += struct.pack("<B", max(0, min(255, round(v * 127) + 128)))
            elif bits == 16:
                body += struct.pack("<h", round(v * 32767))
            elif bits == 24:
                body += round(v * 8388607).to_bytes(3, "little", signed=True)
            else:
                body += struct.pack("<i", round(v * 2147483647))
    nch = len(channels)
    block = nch * bits // 8
    fmt_tag = tag if tag is not None else (3 if floating else 1)
    fmt = struct.pack("<HHIIHH", fmt_tag, nch, rate, rate * block, block, bits)
    chunks = (
        b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body)) + bytes(body)
    )
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def sine(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> list[float]:
    return [amplitude * math.sin(2 * math.pi * freq * i / rate) for i in range(int(seconds * rate))]


def tone_power(samples: list[float] | array, freq: float, rate: int) -> float:
    """Goertzel: power of one frequency, normalised by length."""
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / max(1, len(samples)) ** 2


def read_wav(path: Path) -> tuple[wave._wave_params, array]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        pcm = array("h", wav.readframes(wav.getnframes()))
    return params, pcm


def gap(ms: int, rate: int = RATE) -> int:
    return int(rate * ms / 1000)


def expected_frames(pack: VoicePack, segments: list[list[str]], repeat: int = 1) -> int:
    """Chime + pause + repeat × (clips + word and segment pauses) + pauses between repeats."""
    speech = sum(len(pack.clips[t]) for seg in segments for t in seg)
    speech += sum(gap(WORD_GAP_MS) * (len(seg) - 1) for seg in segments)
    speech += gap(SEGMENT_GAP_MS) * (len(segments) - 1)
    return len(pack.clips[CHIME]) + gap(CHIME_GAP_MS) + repeat * speech + (repeat - 1) * gap(REPEAT_GAP_MS)


def require_or_skip(reason: str) -> None:
    if os.environ.get("MOTCUA_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and MOTCUA_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(reason)


# -- the default pack ----------------------------------------------------------------------


def test_default_pack_files_match_manifest_and_mapping() -> None:
    manifest = json.loads((DEFAULT_PACK_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sample_rate"] == RATE
    files = {p.stem for p in DEFAULT_PACK_DIR.glob("*.wav")}
    assert set(manifest["tokens"]) == files
    # Every word the reader emits has a clip, and so has every phrase of the pack's words.json
    # (the kiosk's spoken guidance and common field names).
    phrases = set(json.loads((DEFAULT_PACK_DIR / "words.json").read_text(encoding="utf-8")).values())
    assert set(WORD_TOKENS.values()) | phrases | {CHIME} == files
    for path in DEFAULT_PACK_DIR.glob("*.wav"):
        with wave.open(str(path), "rb") as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE), path.name
            assert wav.getnframes() / RATE == pytest.approx(
                manifest["tokens"][path.stem]["seconds"], abs=0.002
            )
    total = sum(p.stat().st_size for p in DEFAULT_PACK_DIR.iterdir())
    # About 1 MB of announcement words and 0.8 MB of kiosk phrases and field names.
    assert total < 2_000_000, f"default pack grew to {total} bytes"


def test_default_clips_are_audible_speech(pack: VoicePack) -> None:
    for token, pcm in pack.clips.items():
        seconds = len(pcm) / RATE
        peak = max(abs(v) for v in pcm) / 32767
        rms = math.sqrt(sum(v * v for v in pcm) / len(pcm)) / 32767
        assert peak > 0.3 and rms > 0.08, f"{token} is too quiet (peak {peak:.2f}, rms {rms:.3f})"
        assert peak <= announce.SPEECH_PEAK_LIMIT + 0.01, f"{token} peaks at {peak:.2f}"
        phrase = token in ("xin_moi", CHIME) or token.startswith(("k_", "f_"))  # whole phrases
        limit = 3.0 if phrase else 1.2
        assert 0.08 <= seconds <= limit, f"{token} lasts {seconds:.2f} s"
        # Trimmed: no more than ~50 ms of near-silence at either end.
        edge = int(0.05 * RATE)
        if token != CHIME:
            assert max(abs(v) for v in pcm[:edge]) > 0.01 * 32767, f"{token} starts with silence"
            assert max(abs(v) for v in pcm[-edge:]) > 0.01 * 32767, f"{token} ends with silence"
    # Phrase clips are longer than any single word.
    assert pack.duration("xin_moi") > 1.2 and pack.duration("den_quay") > 0.5


def test_chime_is_two_tones_falling(pack: VoicePack) -> None:
    chime = pack.clips[CHIME]
    first, second = chime[: int(0.28 * RATE)], chime[int(0.45 * RATE) : int(0.8 * RATE)]
    assert tone_power(first, 659.25, RATE) > 20 * tone_power(first, 523.25, RATE)
    assert tone_power(second, 523.25, RATE) > 5 * tone_power(second, 659.25, RATE)
    assert abs(chime[-1]) < 200  # ends at zero: no click before the voice


def test_pack_version_is_stable(pack: VoicePack) -> None:
    assert VoicePack().version == pack.version


def test_loading_does_not_alter_default_clips(pack: VoicePack) -> None:
    # Trimming and levelling are idempotent: the committed files are exactly what plays.
    for token, pcm in pack.clips.items():
        assert audio.read_pcm16(DEFAULT_PACK_DIR / f"{token}.wav")[0] == pcm, token


# -- words to tokens -----------------------------------------------------------------------


def test_tokens_for_default_announcement() -> None:
    text = announcement_text(DEFAULT_TEMPLATE, "1005", 3)
    assert tokens_for_text(text) == [t for seg in SEGMENTS_1005_AT_3 for t in seg]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("hai mươi mốt", ["2", "muoi_", "mot_"]),
        ("mười một", ["muoi", "1"]),
        ("hai mươi tư", ["2", "muoi_", "tu"]),
        ("mười bốn", ["muoi", "4"]),
        ("hai mươi lăm", ["2", "muoi_", "lam"]),
        ("mười lăm", ["muoi", "lam"]),
        ("một triệu không trăm linh một", ["1", "trieu", "0", "tram", "linh", "1"]),
        ("hai tỷ", ["2", "ty"]),
        ("A bê xê đê", ["letter_a", "letter_b", "letter_c", "letter_dd"]),
        ("e-lờ ét-xì i-dài vê-kép", ["letter_l", "letter_s", "letter_y", "letter_w"]),
        ("XIN MỜI công dân có số thứ tự, năm.", ["xin_moi", "5"]),
        (
            "Mời công dân số ba đến quầy bốn",
            ["w_moi", "w_cong", "w_dan", "w_so", "3", "w_den", "w_quay", "4"],
        ),
        ("đến quầy số", ["den_quay"]),
        ("đến quầy", ["w_den", "w_quay"]),
    ],
)
def test_tokens_for_text(text: str, tokens: list[str]) -> None:
    assert tokens_for_text(text) == tokens


def test_every_reading_has_clips(pack: VoicePack) -> None:
    samples = list(range(2200)) + [10_005, 99_999, 1_000_001, 21_024_015, 999_999_999, 5 * 10**9 + 15]
    for n in samples:
        assert all(t in pack.clips for t in pack.tokens_for(number_to_words(n))), n
    letter_tokens = [pack.tokens_for(name) for name in LETTER_NAMES.values()]
    assert all(len(t) == 1 and t[0].startswith("letter_") for t in letter_tokens)
    assert len({t[0] for t in letter_tokens}) == len(LETTER_NAMES)  # one clip per letter


def test_unknown_words_are_named() -> None:
    with pytest.raises(MissingClipsError) as caught:
        tokens_for_text("Xin mời vui lòng đến quầy số ba, vui lòng")
    assert caught.value.words == ("vui", "lòng")
    assert "'vui'" in str(caught.value) and "'lòng'" in str(caught.value)
    assert "“vui”" in caught.value.message_vi and "Không có đoạn ghi âm" in caught.value.message_vi


def test_extra_words_mapping() -> None:
    assert tokens_for_text("vui lòng đến quầy", {"Vui Lòng": "w_vui_long"}) == [
        "w_vui_long",
        "w_den",
        "w_quay",
    ]


# -- building announcements ------------------------------------------------------------------


def test_announcement_is_valid_wav_of_expected_length(pack: VoicePack, tmp_path: Path) -> None:
    path = build_announcement(pack, "1005", 3, cache_dir=tmp_path)
    assert path.parent == tmp_path and path.suffix == ".wav" and len(path.stem) == 64
    params, pcm = read_wav(path)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, RATE)
    assert params.nframes == expected_frames(pack, SEGMENTS_1005_AT_3)
    seconds = params.nframes / RATE
    assert 4.0 < seconds < 9.0
    # Starts with the chime, unchanged; then the pause is silent.
    chime = pack.clips[CHIME]
    assert pcm[: len(chime)] == chime
    assert not any(pcm[len(chime) : len(chime) + gap(CHIME_GAP_MS)])
    # The counter clip "ba" closes the file (faded only at its edges).
    tail = pcm[-len(pack.clips["3"]) :]
    middle = slice(len(tail) // 4, 3 * len(tail) // 4)
    assert tail[middle] == pack.clips["3"][middle]


def test_repeat_twice(pack: VoicePack, tmp_path: Path) -> None:
    once = build_announcement(pack, "1005", 3, cache_dir=tmp_path)
    twice = build_announcement(pack, "1005", 3, repeat=2, cache_dir=tmp_path)
    assert once != twice
    params, pcm = read_wav(twice)
    assert params.nframes == expected_frames(pack, SEGMENTS_1005_AT_3, repeat=2)
    speech = expected_frames(pack, SEGMENTS_1005_AT_3) - len(pack.clips[CHIME]) - gap(CHIME_GAP_MS)
    start = len(pack.clips[CHIME]) + gap(CHIME_GAP_MS)
    first = pcm[start : start + speech]
    second_start = start + speech + gap(REPEAT_GAP_MS)
    assert not any(pcm[start + speech : second_start])
    assert pcm[second_start:] == first


@pytest.mark.parametrize("repeat", [0, 6, True, 1.0])
def test_bad_repeat(pack: VoicePack, tmp_path: Path, repeat: object) -> None:
    with pytest.raises(ValueError):
        build_announcement(pack, "1005", 3, repeat=repeat, cache_dir=tmp_path)  # type: ignore[arg-type]


def test_cache_hit_does_not_rebuild(pack: VoicePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_announcement(pack, "A001", 2, cache_dir=tmp_path)
    content = first.read_bytes()

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("rebuilt a cached announcement")

    monkeypatch.setattr(announce, "assemble", boom)
    again = build_announcement(pack, "A001", 2, cache_dir=tmp_path)
    assert again == first and again.read_bytes() == content
    assert build_announcement(pack, "A001", "02", cache_dir=tmp_path) == first  # same words
    with pytest.raises(AssertionError, match="rebuilt"):
        build_announcement(pack, "A001", 4, cache_dir=tmp_path)  # other words: a miss
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temp files left


def test_cache_is_pruned(pack: VoicePack, tmp_path: Path) -> None:
    paths = [build_announcement(pack, f"A00{i}", 1, cache_dir=tmp_path) for i in range(1, 4)]
    for i, path in enumerate(paths):
        os.utime(path, (1000 + i, 1000 + i))  # A001 oldest
    assert (
        build_announcement(pack, "A001", 1, cache_dir=tmp_path, max_cache_entries=2) == paths[0]
    )  # hit: refreshed
    newest = build_announcement(pack, "A009", 1, cache_dir=tmp_path, max_cache_entries=2)
    assert set(tmp_path.glob("*.wav")) == {paths[0], newest}


def test_override_clip_changes_the_announcement(pack: VoicePack, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = build_announcement(pack, "1005", 3, cache_dir=cache)
    override = tmp_path / "override"
    override.mkdir()
    # A "recording" of "ba" at CD rate, stereo, 24-bit: converted to 16 kHz mono on load.
    tone = sine(440, 0.6, 44100)
    (override / "3.wav").write_bytes(make_wav([tone, tone], 44100, bits=24))
    custom = VoicePack(override)
    assert custom.overridden == {"3"} and custom.problems == []
    assert custom.version != pack.version
    assert custom.duration("3") == pytest.approx(0.6, abs=0.002)
    after = build_announcement(custom, "1005", 3, cache_dir=cache)
    assert after != before and before.exists()
    params, pcm = read_wav(after)
    assert params.nframes == expected_frames(custom, SEGMENTS_1005_AT_3)
    assert params.nframes - read_wav(before)[0].nframes == len(custom.clips["3"]) - len(pack.clips["3"])
    tail = pcm[-len(custom.clips["3"]) :]
    assert tone_power(tail, 440, RATE) > 100 * tone_power(tail, 880, RATE)
    # Unchanged clips are unchanged in the new announcement.
    assert pcm[: len(pack.clips[CHIME])] == pack.clips[CHIME]
    # Another word ("năm" for 1005) untouched by the override: same clip in both packs.
    assert custom.clips["5"] == pack.clips["5"]


def test_override_folder_with_bad_files_keeps_defaults(pack: VoicePack, tmp_path: Path) -> None:
    (tmp_path / "5.wav").write_bytes(b"ID3\x04\x00not really audio")
    (tmp_path / "Bad Name.wav").write_bytes(make_wav([sine(440, 0.3, RATE)], RATE))
    (tmp_path / "7.wav").write_bytes(make_wav([[0.0] * RATE], RATE))  # silence
    custom = VoicePack(tmp_path)
    assert custom.clips["5"] == pack.clips["5"] and custom.clips["7"] == pack.clips["7"]
    assert custom.overridden == frozenset()
    assert custom.version == pack.version
    problems = " | ".join(custom.problems)
    assert "5.wav" in problems and "MP3" in problems
    assert "7.wav" in problems and "silent" in problems
    assert "Bad Name.wav" in problems


def test_overrides_are_trimmed_and_levelled(tmp_path: Path) -> None:
    quiet_word = [0.0] * int(0.5 * 22050) + sine(300, 0.4, 22050, amplitude=0.1) + [0.0] * int(0.7 * 22050)
    (tmp_path / "2.wav").write_bytes(make_wav([quiet_word], 22050, bits=8))
    custom = VoicePack(tmp_path)
    assert custom.duration("2") == pytest.approx(0.4 + 0.03, abs=0.01)  # silences cut, 15 ms margins
    pcm = custom.clips["2"]
    rms = math.sqrt(sum(v * v for v in pcm) / len(pcm)) / 32767
    assert rms == pytest.approx(announce.SPEECH_RMS, rel=0.03)  # a sine's peak stays under the limit


def test_template_with_unknown_words(pack: VoicePack, tmp_path: Path) -> None:
    with pytest.raises(MissingClipsError) as caught:
        build_announcement(
            pack, "A001", 2, template="Xin mời {number} vui lòng đến quầy {counter}", cache_dir=tmp_path
        )
    assert caught.value.words == ("vui", "lòng")
    assert list(tmp_path.iterdir()) == []


def test_edited_template_uses_word_clips(pack: VoicePack, tmp_path: Path) -> None:
    template = "Mời công dân số {number}, đến quầy {counter}."
    path = build_announcement(pack, "B12", 4, template=template, cache_dir=tmp_path)
    segments = [["w_moi", "w_cong", "w_dan", "w_so"], ["letter_b", "muoi", "2"], ["w_den", "w_quay"], ["4"]]
    assert read_wav(path)[0].nframes == expected_frames(pack, segments)


def test_punctuation_only_pieces_add_no_pause(pack: VoicePack, tmp_path: Path) -> None:
    path = build_announcement(
        pack,
        "1005",
        3,
        template="Xin mời công dân có số thứ tự “{number}” - đến quầy số {counter}!",
        cache_dir=tmp_path,
    )
    assert read_wav(path)[0].nframes == expected_frames(pack, SEGMENTS_1005_AT_3)


def test_new_word_via_words_json(pack: VoicePack, tmp_path: Path) -> None:
    (tmp_path / "words.json").write_text(json.dumps({"vui lòng": "w_vui_long"}), encoding="utf-8")
    (tmp_path / "w_vui_long.wav").write_bytes(make_wav([sine(500, 0.5, 48000)], 48000))
    custom = VoicePack(tmp_path)
    assert custom.version != pack.version
    path = build_announcement(
        custom, "A001", 2, template="Xin mời {number} vui lòng đến quầy {counter}", cache_dir=tmp_path / "c"
    )
    segments = [["w_xin", "w_moi"], ["letter_a", "1"], ["w_vui_long", "w_den", "w_quay"], ["2"]]
    assert read_wav(path)[0].nframes == expected_frames(custom, segments)


def test_missing_clip_file_is_named(tmp_path: Path) -> None:
    base = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK_DIR, base)
    (base / "lam.wav").unlink()
    thin = VoicePack(base_dir=base)
    with pytest.raises(MissingClipsError) as caught:
        build_announcement(thin, "A015", 1, cache_dir=tmp_path / "c")
    assert caught.value.tokens == ("lam",) and "lam.wav" in str(caught.value)


# -- uploads -----------------------------------------------------------------------------


def test_valid_upload_accepted() -> None:
    ok, vi, en = validate_clip(make_wav([sine(440, 1.5, 44100)] * 2, 44100))
    assert ok
    assert "Hợp lệ" in vi and "1,5 giây" in vi and "16000 Hz" in vi
    assert en.startswith("Valid") and "converted to 16000 Hz mono" in en


def test_float_upload_accepted() -> None:
    ok, _, en = validate_clip(make_wav([sine(440, 1.0, 48000)], 48000, bits=32, floating=True))
    assert ok and "float" in en


@pytest.mark.parametrize(
    ("data", "vi_part", "en_part"),
    [
        (b"", "rỗng", "empty"),
        (b"ID3\x03\x00\x00\x00" + bytes(2000), "MP3", "only WAV"),
        (b"OggS" + bytes(100), "Ogg", "only WAV"),
        (bytes(range(256)) * 8, "Không phải tệp WAV", "not a WAV file"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "bị hỏng", "damaged"),
        (make_wav([sine(440, 0.5, 8000)], 8000, bits=4 * 4, tag=0x0011), "không hỗ trợ", "unsupported"),
        (make_wav([sine(440, 11.0, 8000)], 8000), "quá dài", "too long"),
        (make_wav([sine(440, 0.03, 16000)], 16000), "quá ngắn", "too short"),
        (make_wav([[0.0] * 16000], 16000), "im lặng", "silent"),
        (make_wav([[0.001 * math.sin(i) for i in range(16000)]], 16000), "im lặng", "silent"),
    ],
    ids=[
        "empty",
        "mp3",
        "ogg",
        "noise-bytes",
        "truncated",
        "adpcm",
        "too-long",
        "too-short",
        "silence",
        "hiss",
    ],
)
def test_bad_uploads_refused(data: bytes, vi_part: str, en_part: str) -> None:
    ok, vi, en = validate_clip(data)
    assert not ok
    assert vi_part in vi and en_part in en
    assert vi != en


def test_save_override_clip_converts_and_refuses(tmp_path: Path) -> None:
    data = make_wav([sine(440, 0.8, 48000), sine(440, 0.8, 48000)], 48000, bits=32, floating=True)
    path = save_override_clip(tmp_path, "den_quay", data)
    assert path == tmp_path / "den_quay.wav"
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() / RATE == pytest.approx(0.8, abs=0.005)
    assert VoicePack(tmp_path).overridden == {"den_quay"}
    with pytest.raises(ClipError) as caught:
        save_override_clip(tmp_path, "den_quay", b"ID3" + bytes(100))
    assert "MP3" in caught.value.message_vi and "MP3" in caught.value.message_en
    with pytest.raises(ClipError, match="unknown clip name"):
        save_override_clip(tmp_path, "../evil", data)
    with pytest.raises(ClipError, match="unknown clip name"):
        save_override_clip(tmp_path, "not_a_token", data)
    assert save_override_clip(tmp_path, "w_vui_long", data, allow_new_token=True).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["den_quay.wav", "w_vui_long.wav"]


# -- conversion accuracy -------------------------------------------------------------------


@pytest.mark.parametrize(("src", "dst"), [(48000, 16000), (44100, 16000), (8000, 16000), (22050, 16000)])
def test_resample_keeps_pitch_and_level(src: int, dst: int) -> None:
    out = audio.resample(sine(1000, 0.5, src, amplitude=0.5), src, dst)
    assert len(out) == int(0.5 * dst)
    body = out[200:-200]
    assert max(abs(v) for v in body) == pytest.approx(0.5, rel=0.02)
    assert tone_power(body, 1000, dst) > 1000 * tone_power(body, 1500, dst)


def test_downsampling_removes_content_above_nyquist() -> None:
    # 10 kHz cannot exist at 16 kHz; without a lowpass it would fold to 6 kHz.
    out = audio.resample(sine(10000, 0.5, 48000, amplitude=0.5), 48000, 16000)
    assert max(abs(v) for v in out[200:-200]) < 0.01


# -- regenerating the default pack with espeak-ng -------------------------------------------


def test_build_pack_regenerates_a_clip(tmp_path: Path) -> None:
    from display.voicepack import build_pack

    if build_pack.espeak_binary() is None:
        require_or_skip("espeak-ng is not installed (apt-get install espeak-ng)")
    assert build_pack.main(["--out", str(tmp_path), "--only", "5", "lam", "chime"]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sample_rate"] == RATE and set(manifest["tokens"]) == {"5", "lam", CHIME}
    assert manifest["tokens"]["5"]["text"] == "năm" and manifest["source"]["voice"] == "vi"
    committed = VoicePack()
    for token in ("5", "lam"):
        pcm, rate = audio.read_pcm16(tmp_path / f"{token}.wav")
        assert rate == RATE
        assert len(pcm) / RATE == pytest.approx(committed.duration(token), rel=0.25)
        assert max(abs(v) for v in pcm) > 0.5 * 32767
    assert audio.read_pcm16(tmp_path / "chime.wav")[0] == committed.clips[CHIME]
    # The regenerated clips work as uploads, too.
    override = tmp_path / "override"
    override.mkdir()
    shutil.copy(tmp_path / "5.wav", override / "5.wav")
    assert VoicePack(override).problems == []
