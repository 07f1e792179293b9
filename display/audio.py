"""Small PCM toolkit for voice clips: read any common WAV, convert, trim, write.

Pure standard library (no numpy, no audioop: removed in Python 3.13) so that a display
box needs nothing but Python. Our working format is mono signed 16-bit samples in an
`array('h')`.
"""

from __future__ import annotations

import io
import math
import operator
import struct
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

_PCM = 0x0001
_FLOAT = 0x0003
_EXTENSIBLE = 0xFFFE
_FULL_SCALE = 32767


class ClipError(ValueError):
    """Audio that cannot be used, with a message for the manager in both languages."""

    def __init__(self, message_en: str, message_vi: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_vi = message_vi


@dataclass(frozen=True)
class WavInfo:
    """What a WAV file holds, before conversion."""

    sample_rate: int
    channels: int
    bits: int
    is_float: bool
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def _guess_format(data: bytes) -> str:
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "MP3"
    if data[:4] == b"OggS":
        return "Ogg"
    if data[:4] == b"fLaC":
        return "FLAC"
    if data[4:8] == b"ftyp":
        return "MP4/M4A"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "WebM"
    return ""


def _not_wav(data: bytes) -> ClipError:
    kind = _guess_format(data)
    if kind:
        return ClipError(
            f"this is a {kind} file; only WAV (PCM) is accepted — export it as WAV",
            f"Đây là tệp {kind}; chỉ nhận tệp WAV (PCM) — hãy xuất lại dưới dạng WAV",
        )
    return ClipError(
        "not a WAV file (no RIFF/WAVE header)",
        "Không phải tệp WAV (thiếu phần đầu RIFF/WAVE)",
    )


def _chunks(data: bytes) -> tuple[bytes, bytes]:
    """Return the raw `fmt ` and `data` chunk bodies of a RIFF/WAVE file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _not_wav(data)
    fmt = body = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, pos)
        pos += 8
        if chunk_id == b"fmt ":
            fmt = data[pos : pos + size]
        elif chunk_id == b"data":
            # Recorders that stream may leave size 0 or too large: take what is there.
            body = data[pos : pos + size] if 0 < size <= len(data) - pos else data[pos:]
            break
        pos += size + (size & 1)  # chunks are word-aligned
    if fmt is None or len(fmt) < 16 or body is None:
        raise ClipError(
            "damaged WAV file (missing format or data section)",
            "Tệp WAV bị hỏng (thiếu phần định dạng hoặc dữ liệu)",
        )
    return fmt, body


def inspect_wav(data: bytes) -> tuple[WavInfo, bytes]:
    """Parse the header; return its description and the raw sample bytes."""
    fmt, body = _chunks(data)
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]  # first two bytes of the subformat GUID
    is_float = tag == _FLOAT
    if tag not in (_PCM, _FLOAT) or (is_float and bits not in (32, 64)):
        raise ClipError(
            f"unsupported WAV encoding (format tag {tag:#06x}); save as 16-bit PCM WAV",
            f"Kiểu mã hoá WAV không hỗ trợ (mã {tag:#06x}); hãy lưu dạng WAV PCM 16 bit",
        )
    if not is_float and bits not in (8, 16, 24, 32):
        raise ClipError(
            f"unsupported sample size {bits} bits; use 16-bit PCM",
            f"Độ sâu mẫu {bits} bit không hỗ trợ; hãy dùng PCM 16 bit",
        )
    if not 1 <= channels <= 8 or not 8000 <= rate <= 192000:
        raise ClipError(
            f"implausible WAV header ({channels} channels, {rate} Hz)",
            f"Phần đầu WAV bất thường ({channels} kênh, {rate} Hz)",
        )
    frame_bytes = channels * bits // 8
    if block_align and block_align != frame_bytes:
        raise ClipError("damaged WAV header (block size)", "Phần đầu WAV bị hỏng (kích thước khối)")
    frames = len(body) // frame_bytes
    return WavInfo(rate, channels, bits, is_float, frames), body[: frames * frame_bytes]


def _to_samples(info: WavInfo, raw: bytes) -> list[float]:
    """Interleaved samples scaled to the 16-bit range."""
    if info.is_float:
        floats = array("f" if info.bits == 32 else "d", raw)
        if sys.byteorder == "big":
            floats.byteswap()
        return [max(-1.0, min(1.0, v)) * _FULL_SCALE for v in floats]
    if info.bits == 8:  # unsigned
        return [float((b - 128) << 8) for b in raw]
    if info.bits == 24:
        # Widen to 32 bits by putting each 3-byte sample in the top bytes of an int.
        wide = bytearray(len(raw) // 3 * 4)
        wide[1::4], wide[2::4], wide[3::4] = raw[0::3], raw[1::3], raw[2::3]
        raw, bits = bytes(wide), 32
    else:
        bits = info.bits
    ints = array("h" if bits == 16 else "i", raw)
    if sys.byteorder == "big":
        ints.byteswap()
    if bits == 32:
        return [float(v >> 16) for v in ints]
    return [float(v) for v in ints]


def decode_wav(data: bytes) -> tuple[WavInfo, list[float]]:
    """Decode any PCM/float WAV into mono samples on a 16-bit scale."""
    info, raw = inspect_wav(data)
    values = _to_samples(info, raw)
    ch = info.channels
    if ch == 1:
        return info, values
    # Average the channels: a stereo recording of one voice keeps its loudness.
    columns = [values[c::ch] for c in range(ch)]
    return info, [sum(frame) / ch for frame in zip(*columns, strict=False)]  # a last, partial frame is dropped


def resample(samples: list[float], src: int, dst: int, *, zero_crossings: int = 8) -> list[float]:
    """Band-limited resampling (Hann-windowed sinc, kernels tabulated per 1/512 sample)."""
    if src == dst or not samples:
        return list(samples)
    cutoff = min(1.0, dst / src)  # lowpass below the lower Nyquist: no aliasing on downsampling
    half = math.ceil(zero_crossings / cutoff)
    phases = 512
    kernels: list[list[float]] = []
    for p in range(phases + 1):
        frac = p / phases
        taps = []
        for m in range(2 * half):
            d = frac + half - 1 - m  # distance from output instant to input sample
            x = cutoff * d
            sinc = 1.0 if x == 0 else math.sin(math.pi * x) / (math.pi * x)
            window = 0.5 * (1 + math.cos(math.pi * d / half)) if abs(d) < half else 0.0
            taps.append(sinc * window)
        total = sum(taps)
        kernels.append([t / total for t in taps])  # unity DC gain
    padded = [0.0] * half + list(samples) + [0.0] * (half + 1)
    step = src / dst
    out_len = int(len(samples) * dst / src)
    out: list[float] = []
    for j in range(out_len):
        t = j * step
        i = int(t)
        kernel = kernels[round((t - i) * phases)]
        # padded[i + 1 + m] is samples[i - half + 1 + m], the sample `kernel[m]` weighs.
        out.append(sum(map(operator.mul, kernel, padded[i + 1 : i + 1 + 2 * half])))
    return out


def peak(samples: list[float] | array[int]) -> float:
    return max((abs(v) for v in samples), default=0.0)


def trim_silence(
    samples: list[float], sample_rate: int, *, threshold: float = 0.02, margin_ms: float = 15
) -> list[float]:
    """Cut leading/trailing silence below `threshold` × peak, keeping a short margin.

    Idempotent: a trimmed clip has its first loud sample exactly `margin` in, so trimming
    again (as every load does) changes nothing.
    """
    top = peak(samples)
    if top == 0:
        return []
    level = top * threshold
    loud = [i for i, v in enumerate(samples) if abs(v) > level]
    margin = int(sample_rate * margin_ms / 1000)
    return samples[max(0, loud[0] - margin) : min(len(samples), loud[-1] + 1 + margin)]


def normalise(samples: list[float], target: float) -> list[float]:
    """Scale so that the peak is `target` (a fraction of full scale)."""
    top = peak(samples)
    if top == 0:
        return samples
    gain = target * _FULL_SCALE / top
    if abs(gain - 1) < 0.005:  # already there (default pack): keep bytes stable
        return samples
    return [v * gain for v in samples]


def level(samples: list[float], rms: float, peak_limit: float) -> list[float]:
    """Scale to a common loudness (`rms`, fraction of full scale) without the peak passing
    `peak_limit`. Peak alone is a poor loudness measure: "lăm" and "tư" peak-matched
    differ by 9 dB in loudness. Idempotent: a second call computes a gain of 1.
    """
    if not samples:
        return samples
    current = math.sqrt(sum(v * v for v in samples) / len(samples))
    top = peak(samples)
    if current == 0:
        return samples
    gain = min(rms * _FULL_SCALE / current, peak_limit * _FULL_SCALE / top)
    if abs(gain - 1) < 0.005:  # already there (default pack): keep bytes stable
        return samples
    return [v * gain for v in samples]


def to_pcm16(samples: list[float]) -> array[int]:
    return array("h", (max(-32768, min(32767, round(v))) for v in samples))


def write_wav(path: Path | io.BytesIO, pcm: array[int], sample_rate: int) -> None:
    """Write mono 16-bit PCM."""
    data = pcm
    if sys.byteorder == "big":
        data = array("h", pcm)
        data.byteswap()
    with wave.open(path if isinstance(path, io.BytesIO) else str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(data.tobytes())


def wav_bytes(pcm: array[int], sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    write_wav(buffer, pcm, sample_rate)
    return buffer.getvalue()


def read_pcm16(path: Path) -> tuple[array[int], int]:
    """Read a mono 16-bit WAV as written by `write_wav`."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise ClipError(f"{path.name}: not mono 16-bit", f"{path.name}: không phải mono 16 bit")
        pcm = array("h", wav.readframes(wav.getnframes()))
        rate = wav.getframerate()
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm, rate
