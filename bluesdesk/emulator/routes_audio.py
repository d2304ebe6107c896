"""Relay routes for audio: POST /v1/audio/speech and POST /v1/audio/transcriptions.

Speech is real, decodable audio from `media.audio`; transcription reads back the text the speech
route embedded (or registered by content hash), so the emulator's own audio round-trips exactly.
"""

from __future__ import annotations

import math
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bluesdesk.emulator.catalog import CatalogModel
from bluesdesk.emulator.media import audio
from bluesdesk.emulator.relay import RelayCall, RelayError, RelayRoute
from bluesdesk.emulator.tokens import count_tokens

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
UPLOAD_SUFFIXES = frozenset(
    {"flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm", "pcm"}
)
TRANSCRIPT_FORMATS = frozenset({"json", "text", "verbose_json", "srt", "vtt"})
LANGUAGES = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian",
    "pt": "portuguese", "nl": "dutch", "ru": "russian", "uk": "ukrainian", "pl": "polish",
    "ja": "japanese", "ko": "korean", "zh": "chinese", "ar": "arabic", "hi": "hindi",
    "tr": "turkish", "sv": "swedish",
}  # fmt: skip


def bad_request(message: str, code: str = "invalid_request") -> RelayError:
    return RelayError(400, message, code=code, type_="invalid_request_error")


def registry(call: RelayCall) -> audio.TranscriptRegistry:
    """The server's hash → text registry; in its database, so it survives a restart."""
    found: audio.TranscriptRegistry = call.request.app.state.emulator.transcripts
    return found


def audio_model(call: RelayCall, name: object, capability: str) -> CatalogModel:
    if not isinstance(name, str) or not name:
        raise bad_request("Missing required parameter: 'model'.")
    model = call.model(name)
    if not model.has(capability):
        what = "text to speech" if capability == "tts" else "speech to text"
        raise bad_request(f"The model '{name}' does not support {what}.", "model_not_supported")
    return model


def _speed(raw: object) -> float:
    if raw is None:
        return 1.0
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise bad_request(f"Invalid 'speed': {raw!r}. It must be a number.")
    return float(raw)


async def speech(call: RelayCall) -> Response:
    body = await call.json()
    model = audio_model(call, body.get("model"), "tts")
    text = body.get("input")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("Missing required parameter: 'input'.")
    if len(text) > audio.MAX_INPUT_CHARS:
        raise bad_request(f"'input' is too long: at most {audio.MAX_INPUT_CHARS} characters.")
    voice = body.get("voice")
    if not isinstance(voice, str) or not voice:
        raise bad_request("Missing required parameter: 'voice'.")
    response_format = body.get("response_format") or "mp3"
    if not isinstance(response_format, str) or response_format not in audio.FORMATS:
        raise bad_request(audio.unsupported_format_message(str(response_format)))
    speed = _speed(body.get("speed"))

    def make() -> bytes:
        pcm = audio.synthesize(text, voice, speed)
        return audio.encode(pcm, text, response_format)

    try:
        data = await run_in_threadpool(make)
    except audio.AudioInputError as exc:
        raise bad_request(str(exc)) from exc
    registry(call).remember(data, text)
    if model.quota_type == 1:
        call.usage(model.name, requests=1)
    else:
        call.usage(model.name, prompt_tokens=count_tokens(text))
    media_type, _ = audio.FORMATS[response_format]
    return Response(data, media_type=media_type)


# --- transcription ---------------------------------------------------------------------------


def segments(text: str, duration: float) -> list[dict[str, Any]]:
    """Sentence segments with times proportional to their share of the speech."""
    pieces = [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p] or [text]
    total = sum(audio.duration_for(p) for p in pieces) or 1.0
    out: list[dict[str, Any]] = []
    start = 0.0
    for i, piece in enumerate(pieces):
        end = (
            duration
            if i == len(pieces) - 1
            else start + duration * audio.duration_for(piece) / total
        )
        out.append(
            {
                "id": i, "seek": 0, "start": round(start, 3), "end": round(end, 3),
                "text": piece, "tokens": [], "temperature": 0.0, "avg_logprob": -0.1,
                "compression_ratio": 1.0, "no_speech_prob": 0.01,
            }
        )  # fmt: skip
        start = end
    return out


def words(text: str, duration: float) -> list[dict[str, Any]]:
    found = list(re.finditer(r"\S+", text))
    span = len(text) or 1
    return [
        {
            "word": m.group(0),
            "start": round(duration * m.start() / span, 3),
            "end": round(duration * m.end() / span, 3),
        }
        for m in found
    ]


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt(segs: list[dict[str, Any]]) -> str:
    blocks = [
        f"{i + 1}\n{_stamp(s['start'], ',')} --> {_stamp(s['end'], ',')}\n{s['text']}\n"
        for i, s in enumerate(segs)
    ]
    return "\n".join(blocks)


def vtt(segs: list[dict[str, Any]]) -> str:
    blocks = [f"{_stamp(s['start'], '.')} --> {_stamp(s['end'], '.')}\n{s['text']}\n" for s in segs]
    return "WEBVTT\n\n" + "\n".join(blocks)


def _language(raw: object) -> str:
    if raw is None or raw == "":
        return "english"
    if not isinstance(raw, str) or not re.fullmatch(r"[a-z]{2}", raw):
        raise bad_request(f"Invalid language '{raw}'. Language parameter must be ISO-639-1 format.")
    return LANGUAGES.get(raw, raw)


async def transcriptions(call: RelayCall) -> Response:
    content_type = call.request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise bad_request("Transcriptions take a multipart/form-data body with a 'file'.")
    async with call.request.form(max_files=2, max_fields=64) as form:
        model = audio_model(call, form.get("model"), "stt")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise bad_request("Missing required parameter: 'file'.")
        suffix = (upload.filename or "").rsplit(".", 1)[-1].lower()
        if "." in (upload.filename or "") and suffix not in UPLOAD_SUFFIXES:
            raise bad_request(
                f"Invalid file format. Supported formats: {sorted(UPLOAD_SUFFIXES)}",
                "invalid_file_format",
            )
        data = await upload.read()
        response_format = form.get("response_format") or "json"
        language = _language(form.get("language"))
        granularities = {str(g) for g in form.getlist("timestamp_granularities[]")}
    if len(data) > MAX_UPLOAD_BYTES:
        raise RelayError(413, "Maximum content size limit (26214400) exceeded.", code="too_large")
    if not isinstance(response_format, str) or response_format not in TRANSCRIPT_FORMATS:
        raise bad_request(
            f"Invalid 'response_format': {response_format!r}. "
            f"Supported values are: {', '.join(sorted(TRANSCRIPT_FORMATS))}."
        )
    if not data:
        raise bad_request("The audio file is empty.", "invalid_file_format")
    result = audio.transcribe(data, registry(call))
    seconds = max(1, math.ceil(result.duration_s))
    if model.quota_type == 1:
        call.usage(model.name, requests=1)
    else:
        # Audio input billed as ~10 tokens a second, the transcript as completion.
        call.usage(
            model.name, prompt_tokens=10 * seconds, completion_tokens=count_tokens(result.text)
        )
    usage = {"type": "duration", "seconds": seconds}
    if response_format == "json":
        return JSONResponse({"text": result.text, "usage": usage})
    if response_format == "text":
        return PlainTextResponse(result.text + "\n")
    segs = segments(result.text, result.duration_s)
    if response_format == "srt":
        return PlainTextResponse(srt(segs))
    if response_format == "vtt":
        return PlainTextResponse(vtt(segs), media_type="text/vtt")
    verbose: dict[str, Any] = {
        "task": "transcribe",
        "language": language,
        "duration": result.duration_s,
        "text": result.text,
        "segments": segs,
        "usage": usage,
    }
    if "word" in granularities:
        verbose["words"] = words(result.text, result.duration_s)
    if granularities and "segment" not in granularities:
        del verbose["segments"]
    return JSONResponse(verbose)


ROUTES: list[RelayRoute] = [
    RelayRoute("/v1/audio/speech", speech),
    RelayRoute("/v1/audio/transcriptions", transcriptions),
]
