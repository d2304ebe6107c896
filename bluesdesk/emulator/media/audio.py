"""Speech the emulator can make and read back: synthesis, WAV/MP3 encoding, transcription.

The "voice" is a tone per character (pitch from the voice and the character), about twelve
characters a second at speed 1, 24 kHz mono 16-bit. What makes the round trip work is the text
itself travelling with the audio: a RIFF ``LIST/INFO`` ``ICMT`` chunk in WAV files and an ID3v2
``TXXX`` frame (plus ``COMM``) in MP3 files, so the transcript survives a copy, a rename or a
metadata-preserving re-encode. A content-hash registry is the second path (raw PCM has nowhere to
carry text). Audio the emulator did not make gets a placeholder that states its measured length.
"""

from __future__ import annotations

import array
import functools
import hashlib
import io
import math
import struct
import sys
import threading
import wave
from collections import OrderedDict
from dataclasses import dataclass

import lameenc

SAMPLE_RATE = 24_000
CHARS_PER_SECOND = 12.0
MIN_SPEED, MAX_SPEED = 0.25, 4.0
MAX_INPUT_CHARS = 4096

# Base pitch (Hz) per voice: the six voices of OpenAI's tts-1.
VOICES: dict[str, float] = {
    "alloy": 180.0,
    "echo": 130.0,
    "fable": 200.0,
    "onyx": 100.0,
    "nova": 220.0,
    "shimmer": 250.0,
}
# response_format → (media type, file suffix). opus/aac/flac are refused: no stdlib encoder.
FORMATS: dict[str, tuple[str, str]] = {
    "mp3": ("audio/mpeg", ".mp3"),
    "wav": ("audio/wav", ".wav"),
    "pcm": ("audio/pcm", ".pcm"),
}
UNSUPPORTED_FORMATS = frozenset({"opus", "aac", "flac"})

SOFTWARE_TAG = "bluesdesk emulator tts"
TXXX_DESCRIPTION = "bluesdesk:transcript"


class AudioInputError(ValueError):
    """A client-side problem with speech parameters (the route answers 400)."""


# --- synthesis -------------------------------------------------------------------------------


def duration_for(text: str, speed: float = 1.0) -> float:
    """Seconds of audio `synthesize` makes for `text` (before encoder padding)."""
    return _units(text) * _unit_samples(speed) / SAMPLE_RATE


def _units(text: str) -> int:
    # Sentence ends pause for two units; every other character takes one.
    return sum(2 if ch in ".!?" else 1 for ch in text)


def _unit_samples(speed: float) -> int:
    return max(1, round(SAMPLE_RATE / (CHARS_PER_SECOND * speed)))


@functools.lru_cache(maxsize=2048)
def _segment(ch: str, base: float, n: int) -> bytes:
    """One character's sound: silence for spaces/punctuation, else a tone with a soft envelope."""
    if not ch.isalnum():
        return bytes(2 * n)
    freq = base * (1.0 + (ord(ch.lower()) % 24) / 24.0)
    ramp = max(1, n // 8)
    step = 2.0 * math.pi * freq / SAMPLE_RATE
    samples = array.array("h", bytes(2 * n))
    for i in range(n):
        env = min(1.0, i / ramp, (n - 1 - i) / ramp)
        value = math.sin(step * i) + 0.35 * math.sin(2.0 * step * i)
        samples[i] = int(9000.0 * env * value)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def synthesize(text: str, voice: str, speed: float = 1.0) -> bytes:
    """Raw PCM (signed 16-bit little-endian, 24 kHz, mono) whose length grows with `text`."""
    if voice not in VOICES:
        raise AudioInputError(
            f"Invalid voice '{voice}'. Supported voices are: {', '.join(VOICES)}."
        )
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise AudioInputError(f"Invalid speed {speed}: it must be between 0.25 and 4.0.")
    base, n = VOICES[voice], _unit_samples(speed)
    parts = [_segment(ch, base, n * (2 if ch in ".!?" else 1)) for ch in text]
    return b"".join(parts)


# --- encoding --------------------------------------------------------------------------------


def _info_subchunk(tag: bytes, value: str) -> bytes:
    data = value.encode("utf-8") + b"\x00"
    if len(data) % 2:
        data += b"\x00"
    return tag + struct.pack("<I", len(data)) + data


def encode_wav(pcm: bytes, text: str) -> bytes:
    """A WAV file (stdlib `wave`) with the text in a trailing LIST/INFO chunk."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    info = b"INFO" + _info_subchunk(b"ISFT", SOFTWARE_TAG) + _info_subchunk(b"ICMT", text)
    body = buf.getvalue() + b"LIST" + struct.pack("<I", len(info)) + info
    # The RIFF size covers everything after its own 8-byte header, now including LIST.
    return body[:4] + struct.pack("<I", len(body) - 8) + body[8:]


def _syncsafe(n: int) -> bytes:
    return bytes(((n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F))


def _unsyncsafe(b: bytes) -> int:
    return (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]


def _id3_frame(frame_id: bytes, payload: bytes) -> bytes:
    return frame_id + _syncsafe(len(payload)) + b"\x00\x00" + payload


def id3_tag(text: str) -> bytes:
    """An ID3v2.4 tag carrying `text` in TXXX (ours) and COMM (what players show); UTF-8."""
    utf8 = text.encode("utf-8")
    frames = _id3_frame(b"TXXX", b"\x03" + TXXX_DESCRIPTION.encode() + b"\x00" + utf8)
    frames += _id3_frame(b"COMM", b"\x03eng\x00" + utf8)
    frames += _id3_frame(b"TSSE", b"\x03" + SOFTWARE_TAG.encode())
    return b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames


def encode_mp3(pcm: bytes, text: str) -> bytes:
    """MPEG audio from `lameenc`, with an ID3v2 tag carrying the text prepended."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(48)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(7)  # fast; the content is tones
    frames: bytes = bytes(encoder.encode(pcm)) + bytes(encoder.flush())
    return id3_tag(text) + frames


def encode(pcm: bytes, text: str, response_format: str) -> bytes:
    if response_format == "wav":
        return encode_wav(pcm, text)
    if response_format == "mp3":
        return encode_mp3(pcm, text)
    if response_format == "pcm":
        return pcm
    raise AudioInputError(unsupported_format_message(response_format))


def unsupported_format_message(response_format: str) -> str:
    supported = ", ".join(FORMATS)
    if response_format in UNSUPPORTED_FORMATS:
        return (
            f"response_format '{response_format}' is not supported by this gateway; "
            f"use one of: {supported}."
        )
    return f"Invalid response_format '{response_format}'. Supported formats are: {supported}."


# --- reading audio back ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioProbe:
    kind: str  # "wav", "mp3" or "unknown"
    duration_s: float | None  # None when the container could not be measured
    embedded_text: str | None  # the text the emulator put in the file, if present


def _cstr(data: bytes) -> str:
    return data.split(b"\x00", 1)[0].decode("utf-8", errors="replace")


def probe_wav(data: bytes) -> AudioProbe:
    pos, duration, text, ours = 12, None, None, False
    byte_rate = 0
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt " and len(body) >= 16:
            byte_rate = struct.unpack("<I", body[8:12])[0]
        elif cid == b"data" and byte_rate:
            duration = len(body) / byte_rate
        elif cid == b"LIST" and body[:4] == b"INFO":
            sub = 4
            while sub + 8 <= len(body):
                sid, ssize = body[sub : sub + 4], struct.unpack("<I", body[sub + 4 : sub + 8])[0]
                value = _cstr(body[sub + 8 : sub + 8 + ssize])
                if sid == b"ICMT":
                    text = value
                elif sid == b"ISFT" and value == SOFTWARE_TAG:
                    ours = True
                sub += 8 + ssize + (ssize & 1)
        pos += 8 + size + (size & 1)
    # A comment alone could be anyone's; trust it only in a file our encoder tagged.
    return AudioProbe("wav", duration, text if ours else None)


def _id3_text(encoding: int, data: bytes) -> list[str]:
    """Split an ID3 text payload into its NUL-separated strings."""
    if encoding in (1, 2):
        codec = "utf-16" if encoding == 1 else "utf-16-be"
        parts: list[str] = []
        chunk_start = 0
        for i in range(0, len(data) - 1, 2):
            if data[i : i + 2] == b"\x00\x00":
                parts.append(data[chunk_start:i].decode(codec, errors="replace"))
                chunk_start = i + 2
        parts.append(data[chunk_start:].decode(codec, errors="replace"))
        return parts
    codec = "latin-1" if encoding == 0 else "utf-8"
    return [p.decode(codec, errors="replace") for p in data.split(b"\x00")]


def _parse_id3(data: bytes) -> tuple[int, str | None]:
    """(tag length, transcript from TXXX) for a leading ID3v2 tag; (0, None) without one."""
    if len(data) < 10 or data[:3] != b"ID3":
        return 0, None
    version, flags = data[3], data[5]
    end = 10 + _unsyncsafe(data[6:10]) + (10 if flags & 0x10 else 0)
    pos, text = 10, None
    while pos + 10 <= min(end, len(data)) and data[pos : pos + 4].strip(b"\x00"):
        fid = data[pos : pos + 4]
        raw = data[pos + 4 : pos + 8]
        size = _unsyncsafe(raw) if version >= 4 else struct.unpack(">I", raw)[0]
        payload = data[pos + 10 : pos + 10 + size]
        if fid == b"TXXX" and payload:
            parts = _id3_text(payload[0], payload[1:])
            if len(parts) >= 2 and parts[0] == TXXX_DESCRIPTION:
                text = parts[1]
        pos += 10 + size
    return end, text


_BITRATES_V1_L3 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2_L3 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frames(data: bytes, start: int = 0) -> tuple[int, float]:
    """(frame count, seconds) of consecutive MPEG Layer III frames from `start`."""
    pos, frames, seconds = start, 0, 0.0
    while pos + 4 <= len(data):
        b1, b2 = data[pos + 1], data[pos + 2]
        if data[pos] != 0xFF or (b1 & 0xE0) != 0xE0:
            if frames:
                break
            pos += 1  # skip junk before the first frame
            continue
        version, layer = (b1 >> 3) & 0x03, (b1 >> 1) & 0x03
        br_index, sr_index, padding = b2 >> 4, (b2 >> 2) & 0x03, (b2 >> 1) & 0x01
        if version == 1 or layer != 1 or br_index in (0, 15) or sr_index == 3:
            if frames:
                break
            pos += 1
            continue
        rate = _RATES[version][sr_index]
        if version == 3:
            bitrate, per_frame, coef = _BITRATES_V1_L3[br_index], 1152, 144
        else:
            bitrate, per_frame, coef = _BITRATES_V2_L3[br_index], 576, 72
        length = coef * bitrate * 1000 // rate + padding
        frames += 1
        seconds += per_frame / rate
        pos += length
    return frames, seconds


def probe_mp3(data: bytes) -> AudioProbe:
    tag_end, text = _parse_id3(data)
    frames, seconds = mp3_frames(data, tag_end)
    return AudioProbe("mp3", seconds if frames else None, text)


def probe(data: bytes) -> AudioProbe:
    """Identify WAV/MP3, measure the duration and find any transcript the emulator embedded."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return probe_wav(data)
    if data[:3] == b"ID3" or (len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0):
        return probe_mp3(data)
    return AudioProbe("unknown", None, None)


class TranscriptRegistry:
    """sha256(audio bytes) → text for audio the emulator made; bounded, thread-safe."""

    def __init__(self, capacity: int = 512) -> None:
        self._items: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    @staticmethod
    def _digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def remember(self, data: bytes, text: str) -> None:
        key = self._digest(data)
        with self._lock:
            self._items[key] = text
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def lookup(self, data: bytes) -> str | None:
        with self._lock:
            return self._items.get(self._digest(data))


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    duration_s: float
    source: str  # "embedded", "registry" or "placeholder"


def transcribe(data: bytes, registry: TranscriptRegistry | None = None) -> Transcript:
    """The text the emulator spoke into `data`, else a placeholder stating the measured length."""
    found = probe(data)
    known = registry.lookup(data) if registry is not None else None
    if found.embedded_text is not None:
        text, source = found.embedded_text, "embedded"
    elif known is not None:
        text, source = known, "registry"
    else:
        text, source = "", "placeholder"
    duration = found.duration_s
    if duration is None and source != "placeholder":
        duration = duration_for(text)
    if duration is None:
        # Unknown container: assume 16-bit 24 kHz mono so the number is at least stable.
        duration = len(data) / (2 * SAMPLE_RATE)
    if source == "placeholder":
        kind = "audio" if found.kind == "unknown" else f"{found.kind.upper()} audio"
        text = f"[No speech recognised in {duration:.1f} seconds of {kind}.]"
    return Transcript(text, round(duration, 3), source)
