"""Spoken announcements: Vietnamese words → voice-pack clips → one cached WAV.

A voice pack is a folder of WAV clips named by token (see `display/voicepack/README.md`).
The default pack ships in `display/voicepack/default/`; an override folder of uploaded
recordings is laid over it clip by clip.

Words of a (configurable) template are matched to clips longest phrase first: the whole
phrase "xin mời công dân có số thứ tự" has one clip, and every word of it also has its own
clip, so a rephrased template ("Mời công dân số {number} đến quầy {counter}") still
speaks. A word with no clip is an error that names the word (`MissingClipsError`); a
manager adds it by uploading a clip and declaring it in the override folder's
`words.json` (`{"vui lòng": "w_vui_long"}`). There is no run-time speech synthesis:
display boxes run offline and a robotic fallback voice mid-sentence sounds broken.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import unicodedata
from array import array
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from display import audio
from display.audio import ClipError
from display.voice import DEFAULT_TEMPLATE, DIGITS, LETTER_NAMES, announcement_parts, announcement_text

__all__ = [
    "DEFAULT_PACK_DIR",
    "WORD_TOKENS",
    "ClipError",
    "MissingClipsError",
    "VoicePack",
    "VoicePackError",
    "build_announcement",
    "save_override_clip",
    "tokens_for_text",
    "validate_clip",
]

log = logging.getLogger(__name__)

DEFAULT_PACK_DIR = Path(__file__).resolve().parent / "voicepack" / "default"

CHIME = "chime"

_LETTER_TOKENS = {
    "A": "letter_a", "Ă": "letter_aw", "Â": "letter_aa", "B": "letter_b", "C": "letter_c",
    "D": "letter_d", "Đ": "letter_dd", "E": "letter_e", "Ê": "letter_ee", "F": "letter_f",
    "G": "letter_g", "H": "letter_h", "I": "letter_i", "J": "letter_j", "K": "letter_k",
    "L": "letter_l", "M": "letter_m", "N": "letter_n", "O": "letter_o", "Ô": "letter_oo",
    "Ơ": "letter_ow", "P": "letter_p", "Q": "letter_q", "R": "letter_r", "S": "letter_s",
    "T": "letter_t", "U": "letter_u", "Ư": "letter_uw", "V": "letter_v", "W": "letter_w",
    "X": "letter_x", "Y": "letter_y", "Z": "letter_z",
}  # fmt: skip

# The one mapping spoken word (lower case, NFC) → clip token (an ASCII file stem).
# Tokens with a trailing "_" are the variant spellings: "muoi_" = mươi, "mot_" = mốt.
WORD_TOKENS: Mapping[str, str] = MappingProxyType(
    {
        **{word: str(digit) for digit, word in enumerate(DIGITS)},
        "mười": "muoi",
        "mươi": "muoi_",
        "trăm": "tram",
        "nghìn": "nghin",
        "triệu": "trieu",
        "tỷ": "ty",
        "linh": "linh",
        "mốt": "mot_",
        "tư": "tu",
        "lăm": "lam",
        **{name.lower(): _LETTER_TOKENS[letter] for letter, name in LETTER_NAMES.items()},
        "xin mời công dân có số thứ tự": "xin_moi",
        "đến quầy số": "den_quay",
        # Single words of the phrases above and a few common alternatives, so that an
        # edited template still speaks without new recordings.
        "xin": "w_xin",
        "mời": "w_moi",
        "công": "w_cong",
        "dân": "w_dan",
        "có": "w_co",
        "số": "w_so",
        "thứ": "w_thu",
        "tự": "w_tu",
        "đến": "w_den",
        "quầy": "w_quay",
        "tại": "w_tai",
        "ông": "w_ong",
        "bà": "w_ba",
    }
)

TOKEN_RE = re.compile(r"^[a-z0-9_]{1,40}$")
KNOWN_TOKENS = frozenset(WORD_TOKENS.values()) | {CHIME}

# Assembly timing. Gaps add to the short margins `audio.trim_silence` keeps on each clip.
WORD_GAP_MS = 20  # between words of one segment: numbers flow as one unit
SEGMENT_GAP_MS = 200  # between "xin mời …", the number, "đến quầy số", the counter
CHIME_GAP_MS = 350
REPEAT_GAP_MS = 900
FADE_MS = 4  # de-click clip edges
MAX_REPEAT = 5
# Bump when assembly changes so that cached announcements are rebuilt.
ASSEMBLY_VERSION = f"1/{WORD_GAP_MS}/{SEGMENT_GAP_MS}/{CHIME_GAP_MS}/{REPEAT_GAP_MS}/{FADE_MS}"

# One loudness for every word, whoever recorded it: RMS ≈ -18 dBFS, peaks under -1 dBFS.
SPEECH_RMS = 0.125
SPEECH_PEAK_LIMIT = 0.9
MIN_CLIP_SECONDS = 0.08
MAX_CLIP_SECONDS = 10.0
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
SILENT_PEAK = 0.01  # below 1 % of full scale a clip is silence or a dead microphone

# Stripped from word edges only, so the hyphen inside "e-lờ" stays.
_PUNCTUATION = ",.;:!?…\"'“”()-–—"
# Where a reader pauses: punctuation, and a dash standing alone between spaces.
_PAUSE_RE = re.compile(r"[,.;:!?…–—]|(?<!\S)-(?!\S)")


class MissingClipsError(LookupError):
    """Words of an announcement that the voice pack cannot speak."""

    def __init__(self, words: Iterable[str], tokens: Iterable[str] = ()) -> None:
        self.words = tuple(dict.fromkeys(words))
        self.tokens = tuple(dict.fromkeys(tokens))
        parts = []
        if self.words:
            parts.append("no clip for word(s): " + ", ".join(repr(w) for w in self.words))
        if self.tokens:
            parts.append("missing clip file(s): " + ", ".join(f"{t}.wav" for t in self.tokens))
        super().__init__("; ".join(parts))
        vi = []
        if self.words:
            vi.append("Không có đoạn ghi âm cho từ: " + ", ".join(f"“{w}”" for w in self.words))
        if self.tokens:
            vi.append("thiếu tệp: " + ", ".join(f"{t}.wav" for t in self.tokens))
        self.message_vi = "; ".join(vi)


class VoicePackError(RuntimeError):
    """The default pack itself is unusable (an installation problem)."""


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def _words(text: str) -> list[str]:
    words = (w.strip(_PUNCTUATION) for w in _norm(text).split())
    return [w for w in words if w]


def _resolve(words: list[str], mapping: Mapping[str, str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Greedy longest-phrase match: [(phrase, token)] and the words nothing matched."""
    longest = max((len(k.split()) for k in mapping), default=1)
    found: list[tuple[str, str]] = []
    missing: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + size])
            if phrase in mapping:
                found.append((phrase, mapping[phrase]))
                i += size
                break
        else:
            missing.append(words[i])
            i += 1
    return found, missing


def tokens_for_text(text: str, words: Mapping[str, str] | None = None) -> list[str]:
    """Clip tokens for a text (punctuation ignored); `words` adds or overrides entries."""
    mapping = WORD_TOKENS if words is None else {**WORD_TOKENS, **{_norm(k): v for k, v in words.items()}}
    found, missing = _resolve(_words(text), mapping)
    if missing:
        raise MissingClipsError(missing)
    return [token for _, token in found]


def _read_words_json(folder: Path) -> dict[str, str]:
    path = folder / "words.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VoicePackError(f"{path}: unreadable words.json: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and TOKEN_RE.match(v) for k, v in data.items()
    ):
        raise VoicePackError(f'{path}: expected {{"word or phrase": "ascii_token"}}')
    return {_norm(k): v for k, v in data.items()}


def prepare_clip(token: str, samples: list[float], source_rate: int, rate: int) -> array[int]:
    """Bring decoded samples to pack format; speech is trimmed and levelled, the chime kept."""
    samples = audio.resample(samples, source_rate, rate)
    if token != CHIME:
        samples = audio.level(audio.trim_silence(samples, rate), SPEECH_RMS, SPEECH_PEAK_LIMIT)
    if len(samples) < rate * MIN_CLIP_SECONDS or audio.peak(samples) < SILENT_PEAK * 32767:
        raise ClipError("the clip is silent or too short", "Đoạn ghi âm im lặng hoặc quá ngắn")
    return audio.to_pcm16(samples)


def load_clip(path: Path, rate: int) -> array[int]:
    """Load one clip file into pack format (any WAV rate/channels/depth is converted)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ClipError(f"cannot read: {exc}", f"Không đọc được tệp: {exc}") from exc
    info, samples = audio.decode_wav(data)
    return prepare_clip(path.stem, samples, info.sample_rate, rate)


def read_manifest(folder: Path = DEFAULT_PACK_DIR) -> dict[str, Any]:
    path = folder / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        rate = int(manifest["sample_rate"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VoicePackError(f"{path}: missing or invalid manifest ({exc})") from exc
    if not 8000 <= rate <= 48000:
        raise VoicePackError(f"{path}: implausible sample_rate {rate}")
    return manifest


class VoicePack:
    """The default clips, overlaid clip by clip by an optional override folder.

    Every clip is converted to the default pack's sample rate, mono, 16 bit. A broken
    default clip raises `VoicePackError`; a broken override clip is reported in
    `problems` and the default clip keeps speaking — a hall must not fall silent because
    of one bad upload.

    A pack is a snapshot: after an upload, load a new one (its `version` changes, so
    announcements cached with the old clips are not reused).
    """

    def __init__(
        self, override_dir: Path | str | None = None, *, base_dir: Path | str = DEFAULT_PACK_DIR
    ) -> None:
        self.base_dir = Path(base_dir)
        self.override_dir = Path(override_dir) if override_dir is not None else None
        self.sample_rate: int = int(read_manifest(self.base_dir)["sample_rate"])
        self.problems: list[str] = []
        clips: dict[str, array[int]] = {}
        for path in sorted(self.base_dir.glob("*.wav")):
            try:
                clips[path.stem] = load_clip(path, self.sample_rate)
            except ClipError as exc:
                raise VoicePackError(f"default voice pack clip {path}: {exc}") from exc
        words = {**WORD_TOKENS, **_read_words_json(self.base_dir)}
        overridden: set[str] = set()
        if self.override_dir is not None and self.override_dir.is_dir():
            for path in sorted(self.override_dir.glob("*.wav")):
                if not TOKEN_RE.match(path.stem):
                    self.problems.append(f"{path.name}: ignored, name is not a token (a-z, 0-9, _)")
                    continue
                try:
                    clips[path.stem] = load_clip(path, self.sample_rate)
                    overridden.add(path.stem)
                except ClipError as exc:
                    self.problems.append(f"{path.name}: {exc.message_en}; default kept")
            try:
                words.update(_read_words_json(self.override_dir))
            except VoicePackError as exc:
                self.problems.append(str(exc))
        for problem in self.problems:
            log.warning("voice pack override: %s", problem)
        self._clips = clips
        self.clips: Mapping[str, array[int]] = MappingProxyType(clips)
        self.words: Mapping[str, str] = MappingProxyType(words)
        self.overridden = frozenset(overridden)
        self.version = self._version()

    def _version(self) -> str:
        digest = hashlib.sha256(f"{ASSEMBLY_VERSION}|{self.sample_rate}|".encode())
        for token in sorted(self._clips):
            digest.update(token.encode() + b"=" + hashlib.sha256(self._clips[token].tobytes()).digest())
        digest.update(json.dumps(dict(self.words), sort_keys=True, ensure_ascii=False).encode())
        return digest.hexdigest()

    def duration(self, token: str) -> float:
        return len(self._clips[token]) / self.sample_rate

    def tokens_for(self, text: str) -> list[str]:
        """Like `tokens_for_text` with this pack's words; also checks the clips exist."""
        found, missing = _resolve(_words(text), self.words)
        absent = [(word, token) for word, token in found if token not in self._clips]
        if missing or absent:
            raise MissingClipsError(missing + [w for w, _ in absent], [t for _, t in absent])
        return [token for _, token in found]


def _segments(template: str, code: str, counter: str | int) -> list[str]:
    """Spoken segments: template pieces and fields, split again at punctuation."""
    pieces: list[str] = []
    for part in announcement_parts(template, code, counter):
        pieces += [p for p in _PAUSE_RE.split(part) if p.strip()]
    return pieces


def _faded(clip: array[int], rate: int) -> array[int]:
    out = array("h", clip)
    n = min(len(out) // 2, int(rate * FADE_MS / 1000))
    for i in range(n):
        gain = i / n
        out[i] = int(out[i] * gain)
        out[-1 - i] = int(out[-1 - i] * gain)
    return out


def _silence(rate: int, ms: int) -> array[int]:
    return array("h", bytes(2 * int(rate * ms / 1000)))


def assemble(pack: VoicePack, segments: list[list[str]], *, repeat: int = 1, chime: bool = True) -> array[int]:
    """Chime (unless `chime=False`), then the segments' clips with gaps, `repeat` times."""
    rate = pack.sample_rate
    faded = {t: _faded(pack.clips[t], rate) for seg in segments for t in seg}
    pcm = array("h")
    if chime:
        pcm += pack.clips[CHIME]
        pcm += _silence(rate, CHIME_GAP_MS)
    for r in range(repeat):
        if r:
            pcm += _silence(rate, REPEAT_GAP_MS)
        for s, segment in enumerate(segments):
            if s:
                pcm += _silence(rate, SEGMENT_GAP_MS)
            for w, token in enumerate(segment):
                if w:
                    pcm += _silence(rate, WORD_GAP_MS)
                pcm += faded[token]
    return pcm


def cache_key(pack: VoicePack, text: str, repeat: int) -> str:
    return hashlib.sha256(f"{pack.version}\n{text}\n{repeat}".encode()).hexdigest()


def _prune(cache_dir: Path, keep: int) -> None:
    """Drop the least recently used announcements beyond `keep` (a hall runs for years)."""
    entries = []
    for path in cache_dir.glob("*.wav"):
        try:
            entries.append((path.stat().st_mtime, path))
        except FileNotFoundError:
            pass  # pruned concurrently
    entries.sort(reverse=True)
    for _, path in entries[keep:]:
        path.unlink(missing_ok=True)


def build_announcement(
    pack: VoicePack,
    code: str,
    counter: str | int,
    *,
    template: str = DEFAULT_TEMPLATE,
    repeat: int = 1,
    cache_dir: Path | str,
    max_cache_entries: int = 1000,
) -> Path:
    """One WAV for "call `code` to `counter`", cached by pack version, text and repeat."""
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
        raise ValueError(f"repeat must be an int from 1 to {MAX_REPEAT}, got {repeat!r}")
    text = announcement_text(template, code, counter)
    cache_dir = Path(cache_dir)
    path = cache_dir / f"{cache_key(pack, text, repeat)}.wav"
    try:
        os.utime(path)  # a hit; refreshing mtime keeps it when pruning
        return path
    except FileNotFoundError:
        pass
    segments: list[list[str]] = []
    missing: list[str] = []
    tokens: list[str] = []
    for segment in _segments(template, code, counter):
        try:
            if tokens_here := pack.tokens_for(segment):  # a lone quote mark has none
                segments.append(tokens_here)
        except MissingClipsError as exc:
            missing += exc.words
            tokens += exc.tokens
    if CHIME not in pack.clips:
        tokens.append(CHIME)
    if missing or tokens:
        raise MissingClipsError(missing, tokens)
    pcm = assemble(pack, segments, repeat=repeat)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Write then rename: a display fetching the file never sees half of it.
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(audio.wav_bytes(pcm, pack.sample_rate))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _prune(cache_dir, max_cache_entries)
    return path


def _seconds_vi(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def validate_clip(data: bytes, *, sample_rate: int | None = None) -> tuple[bool, str, str]:
    """Check an uploaded clip: (ok, message in Vietnamese, message in English).

    Accepted: WAV with PCM (8/16/24/32-bit) or float samples, any rate 8–192 kHz, any
    channel count, 0.08–10 s, not silent. It is converted to the pack format on save.
    """
    rate = sample_rate or int(read_manifest()["sample_rate"])
    if not data:
        return False, "Tệp rỗng.", "The file is empty."
    if len(data) > MAX_UPLOAD_BYTES:
        return (
            False,
            f"Tệp quá lớn (tối đa {MAX_UPLOAD_BYTES // 1024 // 1024} MB).",
            f"The file is too large (max {MAX_UPLOAD_BYTES // 1024 // 1024} MB).",
        )
    try:
        info, samples = audio.decode_wav(data)
    except ClipError as exc:
        return False, exc.message_vi + ".", exc.message_en + "."
    if info.duration < MIN_CLIP_SECONDS:
        return (
            False,
            f"Đoạn ghi âm quá ngắn ({_seconds_vi(info.duration)} giây).",
            f"The clip is too short ({info.duration:.1f} s).",
        )
    if info.duration > MAX_CLIP_SECONDS:
        return (
            False,
            f"Đoạn ghi âm quá dài ({_seconds_vi(info.duration)} giây, tối đa {MAX_CLIP_SECONDS:.0f} giây).",
            f"The clip is too long ({info.duration:.1f} s, max {MAX_CLIP_SECONDS:.0f} s).",
        )
    if audio.peak(samples) < SILENT_PEAK * 32767:
        return (
            False,
            "Đoạn ghi âm gần như im lặng; hãy kiểm tra micrô.",
            "The clip is almost silent; check the microphone.",
        )
    kind = "float" if info.is_float else "PCM"
    convert_vi = convert_en = ""
    if info.sample_rate != rate or info.channels != 1 or info.bits != 16 or info.is_float:
        convert_vi = f"; sẽ được chuyển sang {rate} Hz, 1 kênh, 16 bit"
        convert_en = f"; it will be converted to {rate} Hz mono 16-bit"
    message_vi = (
        f"Hợp lệ: WAV {kind} {info.bits} bit, {info.sample_rate} Hz, {info.channels} kênh, "
        f"{_seconds_vi(info.duration)} giây{convert_vi}."
    )
    message_en = (
        f"Valid: WAV {kind} {info.bits}-bit, {info.sample_rate} Hz, {info.channels} channel(s), "
        f"{info.duration:.1f} s{convert_en}."
    )
    return True, message_vi, message_en


def save_override_clip(
    override_dir: Path | str,
    token: str,
    data: bytes,
    *,
    base_dir: Path | str = DEFAULT_PACK_DIR,
    allow_new_token: bool = False,
) -> Path:
    """Validate an upload and store it, converted to pack format, as `<token>.wav`.

    Converting once here keeps loading fast and makes the stored file what plays.
    A token outside the built-in set needs `allow_new_token` (and a words.json entry).
    """
    if not TOKEN_RE.match(token) or (token not in KNOWN_TOKENS and not allow_new_token):
        raise ClipError(f"unknown clip name {token!r}", f"Tên đoạn ghi âm không hợp lệ: {token!r}")
    rate = int(read_manifest(Path(base_dir))["sample_rate"])
    ok, message_vi, message_en = validate_clip(data, sample_rate=rate)
    if not ok:
        raise ClipError(message_en, message_vi)
    info, samples = audio.decode_wav(data)
    pcm = prepare_clip(token, samples, info.sample_rate, rate)
    folder = Path(override_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{token}.wav"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "wb") as out:
        out.write(audio.wav_bytes(pcm, rate))
    os.replace(tmp, path)
    return path
