"""Text to speech and speech to text through a gateway; every generated clip is kept.

`SpeechService.synthesize` posts to /v1/audio/speech, writes the audio below ``media/speech``
and records a row (with the speed asked for and, when the caller knows the price, the cost);
`transcribe` uploads a file to /v1/audio/transcriptions. No Qt here.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
import uuid
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bluesdesk.core.capabilities import Capability, infer_capabilities
from bluesdesk.core.models import ModelInfo
from bluesdesk.errors import BadResponse
from bluesdesk.gateway.http import GatewayClient
from bluesdesk.store.db import Database
from bluesdesk.store.media import ClipRecord, MediaStore

SPEECH_SUBDIR = "speech"
VOICES = ("alloy", "echo", "fable", "onyx", "nova", "shimmer")
FORMATS = ("mp3", "wav", "opus", "flac")
MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "opus": "audio/ogg",
    "flac": "audio/flac",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "webm": "audio/webm",
}


def speech_models(models: Iterable[ModelInfo]) -> list[str]:
    return sorted(
        m.id for m in models if infer_capabilities(m.id, m.endpoint_types).has(Capability.SPEECH)
    )


def transcription_models(models: Iterable[ModelInfo]) -> list[str]:
    return sorted(
        m.id
        for m in models
        if infer_capabilities(m.id, m.endpoint_types).has(Capability.TRANSCRIPTION)
    )


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    model: str
    voice: str
    text: str
    speed: float = 1.0
    format: str = "mp3"


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    request_id: str = ""


def wav_duration(data: bytes) -> float:
    """Seconds of a WAV file, or 0.0 if it cannot be read (other formats: the player knows)."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            rate = w.getframerate()
            return w.getnframes() / rate if rate else 0.0
    except (wave.Error, EOFError):
        return 0.0


def wav_is_complete(data: bytes) -> bool:
    """Does a WAV body hold as many bytes as its RIFF header declares? (a cut body does not)"""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return False
    declared = int.from_bytes(data[4:8], "little") + 8
    # Streaming encoders write 0 or 0xFFFFFFFF when they do not know the size in advance.
    return declared in (8, 0xFFFFFFFF + 8) or len(data) >= declared


class SpeechService:
    """Make clips, list and delete them, and transcribe audio files."""

    def __init__(self, db: Database, media_dir: Path) -> None:
        self.store = MediaStore(db)
        self.media_dir = media_dir

    def file_of(self, clip: ClipRecord) -> Path:
        return self.media_dir / clip.path

    async def synthesize(
        self, client: GatewayClient, request: SpeechRequest, *, cost: float | None = None
    ) -> ClipRecord:
        body = {
            "model": request.model,
            "voice": request.voice,
            "input": request.text,
            "speed": request.speed,
            "response_format": request.format,
        }
        data, _, meta = await client.request_bytes("POST", "audio/speech", json=body)
        if not data:
            raise BadResponse(
                "The gateway sent empty audio.",
                profile=client.profile.name,
                request_id=meta.request_id,
            )
        if request.format == "wav" and not wav_is_complete(data):
            raise BadResponse(
                "The gateway sent incomplete audio (the WAV file is cut short).",
                hint="Nothing was saved. Try again.",
                profile=client.profile.name,
                request_id=meta.request_id,
            )
        folder = self.media_dir / SPEECH_SUBDIR
        now = time.time()
        name = f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{uuid.uuid4().hex[:10]}"
        rel = f"{SPEECH_SUBDIR}/{name}.{request.format}"

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            (self.media_dir / rel).write_bytes(data)

        await asyncio.to_thread(write)
        try:
            return await self.store.add_clip(
                path=rel,
                model=request.model,
                voice=request.voice,
                input_text=request.text,
                fmt=request.format,
                created_at=now,
                duration_s=wav_duration(data) if request.format == "wav" else 0.0,
                profile_id=client.profile.id,
                request_id=meta.request_id,
                params={"speed": request.speed}
                | ({"cost": round(cost, 6)} if cost is not None else {}),
            )
        except BaseException:
            (self.media_dir / rel).unlink(missing_ok=True)
            raise

    async def history(self, limit: int = -1) -> list[ClipRecord]:
        return await self.store.clips(limit)

    async def delete(self, clip_id: int) -> bool:
        clip = await self.store.delete_clip(clip_id)
        if clip is None:
            return False
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self.file_of(clip).unlink)
        return True

    async def transcribe(
        self, client: GatewayClient, path: Path, *, model: str = "whisper-1", language: str = ""
    ) -> Transcript:
        data = await asyncio.to_thread(path.read_bytes)
        suffix = path.suffix.lower().lstrip(".")
        form = {"model": model, "response_format": "json"}
        if language:
            form["language"] = language
        files = {"file": (path.name, data, MEDIA_TYPES.get(suffix, "application/octet-stream"))}
        answer, meta = await client.request_multipart(
            "audio/transcriptions", data=form, files=files
        )
        text = answer.get("text") if isinstance(answer, dict) else None
        if not isinstance(text, str):
            raise BadResponse(
                "The gateway's transcription holds no text.",
                profile=client.profile.name,
                request_id=meta.request_id,
            )
        return Transcript(text=text, request_id=meta.request_id)
