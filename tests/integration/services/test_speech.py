"""SpeechService against the emulator over loopback: clips kept and listed, transcription."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from bluesdesk.core.models import GatewayProfile, ModelInfo
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.emulator.media import audio as emulator_audio
from bluesdesk.errors import BadRequest, RateLimited
from bluesdesk.gateway import GatewayClient
from bluesdesk.services.speech import (
    SpeechRequest,
    SpeechService,
    speech_models,
    transcription_models,
)
from bluesdesk.store.db import Database
from tests.integration.conftest import EmulatorFleet

T = TypeVar("T")
FAST = RetryPolicy(max_retries=2, base_delay=0.0, max_delay=0.0, jitter=0.0)
NO_RETRY = RetryPolicy(max_retries=0, base_delay=0.0, max_delay=0.0, jitter=0.0)
TEXT = "Hello from the speech pane. It round-trips."


@pytest.fixture
def server(emulators: EmulatorFleet) -> EmulatorServer:
    return emulators.get(Flavor.BLUESMINDS)


def with_service(
    tmp_path: Path,
    server: EmulatorServer,
    body: Callable[[SpeechService, GatewayClient], Awaitable[T]],
    policy: RetryPolicy = FAST,
) -> T:
    async def main() -> T:
        db = await Database.open(tmp_path / "bluesdesk.db")
        profile = GatewayProfile(id="emu", name="Emulator", base_url=server.relay_url)
        client = GatewayClient(profile, DEMO.api_key, policy=policy)
        try:
            return await body(SpeechService(db, tmp_path / "media"), client)
        finally:
            await client.aclose()
            await db.close()

    return asyncio.run(main())


def test_wav_clip_is_written_decodable_and_recorded(tmp_path, server):
    request = SpeechRequest(model="tts-1", voice="nova", text=TEXT, speed=1.5, format="wav")

    async def body(service: SpeechService, client: GatewayClient):
        clip = await service.synthesize(client, request)
        return clip, await service.history()

    clip, history = with_service(tmp_path, server, body)
    assert history == [clip]
    path = tmp_path / "media" / clip.path
    assert path.suffix == ".wav"
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert seconds == pytest.approx(emulator_audio.duration_for(TEXT, 1.5), rel=0.01)
    assert clip.duration_s == pytest.approx(seconds)
    assert (clip.model, clip.voice, clip.input_text, clip.format) == ("tts-1", "nova", TEXT, "wav")
    assert clip.request_id


def test_mp3_clip_is_mpeg_audio(tmp_path, server):
    request = SpeechRequest(model="tts-1", voice="alloy", text=TEXT, format="mp3")

    async def body(service: SpeechService, client: GatewayClient):
        return await service.synthesize(client, request)

    clip = with_service(tmp_path, server, body)
    data = (tmp_path / "media" / clip.path).read_bytes()
    probe = emulator_audio.probe(data)
    assert probe.kind == "mp3" and probe.duration_s and probe.duration_s > 1.0


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_transcription_of_an_emulator_clip_round_trips_its_text(tmp_path, server, fmt):
    request = SpeechRequest(model="tts-1", voice="echo", text=TEXT, format=fmt)

    async def body(service: SpeechService, client: GatewayClient):
        clip = await service.synthesize(client, request)
        return await service.transcribe(client, service.file_of(clip), model="whisper-1")

    transcript = with_service(tmp_path, server, body)
    assert transcript.text == TEXT
    assert transcript.request_id


def test_history_survives_a_new_service_and_delete_removes_the_file(tmp_path, server):
    async def first(service: SpeechService, client: GatewayClient):
        a = await service.synthesize(client, SpeechRequest("tts-1", "onyx", "One.", format="wav"))
        b = await service.synthesize(client, SpeechRequest("tts-1", "onyx", "Two.", format="mp3"))
        return a, b

    async def second(service: SpeechService, client: GatewayClient):
        before = await service.history()
        deleted = await service.delete(before[-1].id)
        return before, deleted, await service.history(), service.file_of(before[-1])

    _, b = with_service(tmp_path, server, first)
    before, deleted, after, gone = with_service(tmp_path, server, second)
    assert [c.input_text for c in before] == ["Two.", "One."]
    assert deleted and [c.id for c in after] == [b.id]
    assert not gone.exists()


def test_unsupported_format_and_rate_limit_are_typed_errors(tmp_path, server):
    server.arm_fault("429", 1, retry_after=3, path_prefix="/v1/audio/speech")

    async def body(service: SpeechService, client: GatewayClient):
        with pytest.raises(RateLimited):
            await service.synthesize(client, SpeechRequest("tts-1", "nova", "x", format="wav"))
        with pytest.raises(BadRequest) as caught:
            await service.synthesize(client, SpeechRequest("tts-1", "nova", "x", format="opus"))
        return caught.value, await service.history()

    error, history = with_service(tmp_path, server, body, policy=NO_RETRY)
    assert "opus" in error.user_message
    assert history == []


def test_model_filters():
    models = [ModelInfo(id=i) for i in ("gpt-4o", "tts-1", "gpt-4o-mini-tts", "whisper-1")]
    assert speech_models(models) == ["gpt-4o-mini-tts", "tts-1"]
    assert transcription_models(models) == ["whisper-1"]
