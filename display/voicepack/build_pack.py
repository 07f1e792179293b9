"""Build the default voice pack with espeak-ng's Vietnamese voice.

    python -m display.voicepack.build_pack                 # regenerate default/
    python -m display.voicepack.build_pack --only 5 muoi   # just these clips
    python -m display.voicepack.build_pack --out /tmp/pack --voice vi-vn-x-south

Each token of `display.announce.WORD_TOKENS` and of the pack's `words.json` is spoken once, converted to the pack
format (mono, 16-bit, `--rate` Hz), trimmed of leading/trailing silence and levelled the
same way `VoicePack` treats uploads, so joined clips run fluently. The chime is
synthesised here, not spoken. `manifest.json` records tokens, texts, durations and source.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from display import audio
from display.announce import CHIME, DEFAULT_PACK_DIR, WORD_TOKENS, _read_words_json, prepare_clip

DEFAULT_VOICE = "vi"  # northern; the reading rules in display.voice are northern too
# Words per minute: espeak's 175 default is hurried for a hall; 150 stays clear.
DEFAULT_SPEED = 150
# 16 kHz is wideband speech (what hall PA speakers reproduce) and keeps the pack small.
DEFAULT_RATE = 16000
# espeak-ng reads the letter name "gi" as the bare consonant; "di" is the same [zi] in
# northern speech and comes out as a full syllable.
ESPEAK_SPELLING = {"letter_j": "di"}


def spoken_texts() -> dict[str, str]:
    """Token → the word or phrase its clip says (as written in announcements), and the
    default pack's own phrases from its words.json (the kiosk's guidance, field names)."""
    texts: dict[str, str] = {}
    for word, token in {**WORD_TOKENS, **_read_words_json(DEFAULT_PACK_DIR)}.items():
        texts.setdefault(token, word)
    return texts


def espeak_input(token: str, text: str) -> str:
    # Hyphenated letter names ("e-lờ") are two syllables for the synthesiser.
    return ESPEAK_SPELLING.get(token, text.replace("-", " "))


def espeak_binary() -> str | None:
    return shutil.which("espeak-ng")


def espeak_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    # "eSpeak NG text-to-speech: 1.51  Data at: …" → "espeak-ng 1.51"
    words = out.split(":", 1)[-1].split()
    return f"espeak-ng {words[0] if words else 'unknown'}"


def speak(binary: str, text: str, *, voice: str, speed: int) -> bytes:
    """Raw WAV bytes of espeak-ng saying `text`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.wav"
        subprocess.run(
            [binary, "-v", voice, "-s", str(speed), "-w", str(out), text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return out.read_bytes()


def chime(rate: int) -> list[float]:
    """Two-tone "ding-dong" (E5 then C5, a falling major third) with bell-like decay."""
    length = int(rate * 1.05)
    samples = [0.0] * length
    for start_s, freq in ((0.0, 659.25), (0.32, 523.25)):
        start = int(start_s * rate)
        for i in range(length - start):
            t = i / rate
            envelope = min(1.0, t / 0.006) * math.exp(-t / 0.22)
            tone = (
                math.sin(2 * math.pi * freq * t)
                + 0.35 * math.sin(2 * math.pi * 2 * freq * t)
                + 0.1 * math.sin(2 * math.pi * 3 * freq * t)
            )
            samples[start + i] += envelope * tone
    release = int(rate * 0.05)  # end exactly at zero: no click before the speech
    for i in range(release):
        samples[-1 - i] *= i / release
    return audio.normalise(samples, 0.5)  # ≈ -6 dBFS: softer than the voice


def build(
    out_dir: Path,
    *,
    only: list[str] | None = None,
    voice: str = DEFAULT_VOICE,
    speed: int = DEFAULT_SPEED,
    rate: int = DEFAULT_RATE,
) -> dict[str, Any]:
    """Write the clips and manifest.json into `out_dir`; return the manifest."""
    texts = spoken_texts()
    wanted = list(texts) + [CHIME] if not only else list(only)
    unknown = [t for t in wanted if t not in texts and t != CHIME]
    if unknown:
        raise SystemExit(f"unknown token(s): {', '.join(unknown)}")
    binary = espeak_binary()
    if binary is None and any(t != CHIME for t in wanted):
        raise SystemExit("espeak-ng not found: apt-get install espeak-ng")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    manifest: dict[str, Any] = {}
    if only and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("sample_rate") != rate:
            raise SystemExit(f"{manifest_path} is at {manifest.get('sample_rate')} Hz, not {rate}")
    entries: dict[str, dict[str, Any]] = manifest.get("tokens", {})
    for token in wanted:
        if token == CHIME:
            pcm = audio.to_pcm16(chime(rate))
            entries[token] = {"text": "(two-tone chime)"}
        else:
            assert binary is not None  # checked above
            info, samples = audio.decode_wav(
                speak(binary, espeak_input(token, texts[token]), voice=voice, speed=speed)
            )
            pcm = prepare_clip(token, samples, info.sample_rate, rate)
            entries[token] = {"text": texts[token]}
        entries[token]["seconds"] = round(len(pcm) / rate, 3)
        audio.write_wav(out_dir / f"{token}.wav", pcm, rate)
    manifest.update(
        {
            "format": 1,
            "sample_rate": rate,
            "channels": 1,
            "sample_width": 2,
            "source": {
                "engine": espeak_version(binary) if binary else "none",
                "voice": voice,
                "speed_wpm": speed,
                "processing": "resampled, silence trimmed at 2 % of peak with 15 ms margin, "
                "speech levelled to RMS 0.125 with peaks under 0.9 of full scale",
                "chime": "synthesised by build_pack.py (E5 then C5, bell decay)",
            },
            "tokens": dict(sorted(entries.items())),
        }
    )
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_PACK_DIR, help="pack folder")
    parser.add_argument("--only", nargs="+", metavar="TOKEN", help="regenerate just these clips")
    parser.add_argument("--voice", default=DEFAULT_VOICE, help="espeak-ng voice (vi, vi-vn-x-south, …)")
    parser.add_argument("--speed", type=int, default=DEFAULT_SPEED, help="words per minute")
    parser.add_argument("--rate", type=int, default=DEFAULT_RATE, help="sample rate of the pack")
    args = parser.parse_args(argv)
    manifest = build(args.out, only=args.only, voice=args.voice, speed=args.speed, rate=args.rate)
    total = sum(entry["seconds"] for entry in manifest["tokens"].values())
    print(f"{args.out}: {len(manifest['tokens'])} clips, {total:.1f} s of audio", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
