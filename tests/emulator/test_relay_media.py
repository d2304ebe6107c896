"""Media relay routes over real sockets: images, speech, transcription and async tasks.

The official `openai` SDK is the client wherever it has a method for the route, so what it can parse
is what the emulator serves; raw httpx covers the rest (tasks, error shapes, served files).
"""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import openai
import pytest
from PIL import Image

from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO, SECURE
from bluesdesk.emulator.catalog import MODELS
from bluesdesk.emulator.media import audio

SPOKEN = "Hello from BluesMinds. The emulator speaks, and listens."


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    """A private emulator with a generous RPM, so this module's calls never hit the limit."""
    server = EmulatorServer(EmulatorConfig(flavor=Flavor.BLUESMINDS, port=0, rpm=100_000))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def client(base: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=DEMO.api_key, base_url=base + "/v1", max_retries=0) as c:
        yield c


@pytest.fixture
def http(base: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {DEMO.api_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        yield c


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        return img.size


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "error" in body, body
    err: dict[str, Any] = body["error"]
    assert "(request id: " in err["message"]
    return err


# --- images ----------------------------------------------------------------------------------


def test_sdk_generates_a_url_image_the_emulator_serves(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="dall-e-3", prompt="A serene mountain at dawn", n=1, size="1792x1024"
    )
    assert result.data is not None and len(result.data) == 1
    item = result.data[0]
    assert item.url is not None and item.b64_json is None
    assert item.revised_prompt and item.revised_prompt.startswith("A serene mountain at dawn")
    fetched = httpx.get(item.url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"].startswith("image/png")
    assert png_size(fetched.content) == (1792, 1024)


def test_sdk_generates_b64_images_one_per_index(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="dall-e-2", prompt="two cats", n=2, size="512x512", response_format="b64_json"
    )
    assert result.data is not None
    pictures = [base64.b64decode(d.b64_json or "") for d in result.data]
    assert [png_size(p) for p in pictures] == [(512, 512), (512, 512)]
    assert pictures[0] != pictures[1]
    again = client.images.generate(
        model="dall-e-2", prompt="two cats", n=2, size="512x512", response_format="b64_json"
    )
    assert again.data is not None and base64.b64decode(again.data[0].b64_json or "") == pictures[0]


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"model": "dall-e-3", "prompt": "x", "size": "1000x1000"}, "invalid_request", "size"),
        ({"model": "gpt-4o", "prompt": "x"}, "model_not_supported", "image generation"),
        ({"model": "dall-e-3"}, "invalid_request", "prompt"),
        ({"model": "dall-e-3", "prompt": "x", "n": 2}, "invalid_request", "'n'"),
        ({"model": "dall-e-2", "prompt": "x", "n": 9}, "invalid_request", "'n'"),
        ({"model": "dall-e-3", "prompt": "x", "response_format": "gif"}, "invalid_request", "gif"),
        ({"model": "dall-e-3", "prompt": "x", "quality": "ultra"}, "invalid_request", "quality"),
        (
            {"model": "dall-e-3", "prompt": "scenes of violence"},
            "content_policy_violation",
            "safety system",
        ),
    ],
)
def test_generation_errors_are_400_in_openai_shape(
    http: httpx.Client, body: dict[str, Any], code: str, fragment: str
) -> None:
    response = http.post("/v1/images/generations", json=body)
    assert response.status_code == 400
    err = error_of(response)
    assert err["code"] == code
    assert fragment in err["message"]


def test_sdk_maps_a_refusal_to_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model="dall-e-3", prompt="something forbidden")
    assert caught.value.code == "content_policy_violation"


def _png(size: tuple[int, int], alpha: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, (200, 40, 40, alpha)).save(buf, "PNG")
    return buf.getvalue()


def test_sdk_edits_an_image_with_a_mask(client: openai.OpenAI) -> None:
    result = client.images.edit(
        model="dall-e-2",
        image=("in.png", _png((256, 256), 255), "image/png"),
        mask=("mask.png", _png((256, 256), 0), "image/png"),
        prompt="paint it blue",
        size="512x512",
        response_format="b64_json",
    )
    assert result.data is not None
    edited = base64.b64decode(result.data[0].b64_json or "")
    assert png_size(edited) == (512, 512)
    with Image.open(io.BytesIO(edited)) as img:
        # The fully transparent mask means "repaint everything": the red is gone.
        assert img.convert("RGB").getpixel((256, 100)) != (200, 40, 40)


def test_edit_url_result_keeps_the_input_size(client: openai.OpenAI) -> None:
    result = client.images.edit(
        model="gpt-image-1",
        image=("in.png", _png((256, 256), 0), "image/png"),
        prompt="a lake",
    )
    assert result.data is not None and result.data[0].url is not None
    assert png_size(httpx.get(result.data[0].url, timeout=10).content) == (256, 256)


def test_edit_with_a_mask_of_another_size_is_refused(http: httpx.Client) -> None:
    response = http.post(
        "/v1/images/edits",
        data={"model": "dall-e-2", "prompt": "p"},
        files={
            "image": ("in.png", _png((256, 256), 255), "image/png"),
            "mask": ("mask.png", _png((512, 512), 0), "image/png"),
        },
    )
    assert response.status_code == 400
    assert "does not match" in error_of(response)["message"]


def test_edit_needs_an_edit_capable_model_and_an_image(http: httpx.Client) -> None:
    files = {"image": ("in.png", _png((256, 256), 255), "image/png")}
    wrong = http.post("/v1/images/edits", data={"model": "dall-e-3", "prompt": "p"}, files=files)
    assert wrong.status_code == 400
    assert error_of(wrong)["code"] == "model_not_supported"
    missing = http.post(
        "/v1/images/edits",
        data={"model": "dall-e-2", "prompt": "p"},
        files={"other": ("x.txt", b"x", "text/plain")},
    )
    assert missing.status_code == 400
    assert "'image'" in error_of(missing)["message"]


# --- speech ----------------------------------------------------------------------------------


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


def test_sdk_speech_wav_is_decodable_and_grows_with_the_text(client: openai.OpenAI) -> None:
    short = client.audio.speech.create(
        model="tts-1", voice="alloy", input="Hi.", response_format="wav"
    )
    assert short.response.headers["content-type"] == "audio/wav"
    long_ = client.audio.speech.create(
        model="tts-1", voice="alloy", input=SPOKEN, response_format="wav"
    )
    assert _wav_seconds(long_.content) > 5 * _wav_seconds(short.content)
    faster = client.audio.speech.create(
        model="tts-1", voice="alloy", input=SPOKEN, response_format="wav", speed=2.0
    )
    assert _wav_seconds(faster.content) == pytest.approx(_wav_seconds(long_.content) / 2, rel=0.02)


def test_sdk_speech_mp3_is_the_default(client: openai.OpenAI) -> None:
    result = client.audio.speech.create(model="tts-1-hd", voice="nova", input=SPOKEN)
    assert result.response.headers["content-type"] == "audio/mpeg"
    found = audio.probe(result.content)
    assert found.kind == "mp3"
    assert found.duration_s == pytest.approx(audio.duration_for(SPOKEN), abs=0.2)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"response_format": "opus"}, "'opus' is not supported"),
        ({"response_format": "flac"}, "'flac' is not supported"),
        ({"voice": "robot"}, "Invalid voice"),
        ({"speed": 9}, "speed"),
        ({"input": ""}, "'input'"),
        ({"model": "dall-e-3"}, "text to speech"),
    ],
)
def test_speech_errors_are_400(http: httpx.Client, changes: dict[str, Any], fragment: str) -> None:
    body = {"model": "tts-1", "voice": "alloy", "input": "hello", **changes}
    response = http.post("/v1/audio/speech", json=body)
    assert response.status_code == 400
    assert fragment in error_of(response)["message"]


# --- transcription ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["mp3", "wav"])
def test_sdk_transcribes_the_emulators_own_speech_back_to_its_text(
    client: openai.OpenAI, fmt: Literal["mp3", "wav"]
) -> None:
    spoken = client.audio.speech.create(
        model="tts-1", voice="echo", input=SPOKEN, response_format=fmt
    )
    result = client.audio.transcriptions.create(
        model="whisper-1", file=(f"speech.{fmt}", spoken.content)
    )
    assert result.text == SPOKEN


def test_pcm_round_trips_through_the_servers_registry(http: httpx.Client) -> None:
    spoken = http.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "voice": "onyx", "input": SPOKEN, "response_format": "pcm"},
    )
    assert spoken.headers["content-type"] == "audio/pcm"
    assert len(spoken.content) == 2 * round(audio.duration_for(SPOKEN) * audio.SAMPLE_RATE)
    heard = http.post(
        "/v1/audio/transcriptions",
        data={"model": "whisper-1", "response_format": "text"},
        files={"file": ("speech.pcm", spoken.content)},
    )
    assert heard.status_code == 200
    assert heard.text == SPOKEN + "\n"


def test_sdk_verbose_json_srt_and_vtt(client: openai.OpenAI) -> None:
    mp3 = client.audio.speech.create(model="tts-1", voice="fable", input=SPOKEN).content
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=("a.mp3", mp3),
        response_format="verbose_json",
        language="en",
        timestamp_granularities=["word", "segment"],
    )
    assert verbose.text == SPOKEN
    assert verbose.language == "english"
    assert verbose.duration == pytest.approx(audio.duration_for(SPOKEN), abs=0.2)
    assert verbose.segments is not None
    assert [s.text for s in verbose.segments] == [
        "Hello from BluesMinds.",
        "The emulator speaks, and listens.",
    ]
    assert verbose.segments[0].end == verbose.segments[1].start
    assert verbose.words is not None and verbose.words[0].word == "Hello"
    srt = client.audio.transcriptions.create(
        model="whisper-1", file=("a.mp3", mp3), response_format="srt"
    )
    assert srt.startswith("1\n00:00:00,000 --> 00:00:0")
    assert "2\n" in srt and "The emulator speaks, and listens." in srt
    vtt = client.audio.transcriptions.create(
        model="whisper-1", file=("a.mp3", mp3), response_format="vtt"
    )
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")


def test_unknown_audio_gets_a_placeholder_with_its_duration(client: openai.OpenAI) -> None:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(bytes(2 * 16_000 * 2))
    result = client.audio.transcriptions.create(model="whisper-1", file=("x.wav", buf.getvalue()))
    assert result.text == "[No speech recognised in 2.0 seconds of WAV audio.]"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"model": "gpt-4o"}, "speech to text"),
        ({"model": "whisper-1", "response_format": "docx"}, "response_format"),
        ({"model": "whisper-1", "language": "english"}, "ISO-639-1"),
    ],
)
def test_transcription_errors_are_400(
    http: httpx.Client, data: dict[str, str], fragment: str
) -> None:
    response = http.post(
        "/v1/audio/transcriptions", data=data, files={"file": ("a.wav", b"RIFF0000WAVE")}
    )
    assert response.status_code == 400
    assert fragment in error_of(response)["message"]


def test_transcription_refuses_a_file_type_it_does_not_take(http: httpx.Client) -> None:
    response = http.post(
        "/v1/audio/transcriptions",
        data={"model": "whisper-1"},
        files={"file": ("notes.txt", b"hello")},
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_file_format"


# --- async tasks -----------------------------------------------------------------------------


def submit(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/v1/tasks", json={"model": "mj-imagine", **body})
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


def test_task_runs_to_success_with_a_served_image(http: httpx.Client) -> None:
    task = submit(http, prompt="a lighthouse", duration_s=0.3, size="512x512")
    assert task["status"] in ("queued", "in_progress")
    assert task["object"] == "task" and task["id"].startswith("task_")
    done = http.get(f"/v1/tasks/{task['id']}", params={"wait": 10}).json()
    assert (done["status"], done["progress"], done["error"]) == ("succeeded", 100, None)
    image = httpx.get(done["result"]["url"], timeout=10)
    assert png_size(image.content) == (512, 512)
    # Seeing it again serves the same result.
    assert http.get(f"/v1/tasks/{task['id']}").json()["result"] == done["result"]
    events = http.get(f"/v1/tasks/{task['id']}/events").json()["data"]
    assert [e["type"] for e in events] == [
        "task.queued", "task.in_progress", "task.progress", "task.progress", "task.progress",
        "task.succeeded",
    ]  # fmt: skip
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 100


def test_long_task_is_in_flight_and_can_be_cancelled(http: httpx.Client) -> None:
    task = submit(http, prompt="a slow one", duration_s=120)
    assert task["status"] == "queued"
    cancelled = http.post(f"/v1/tasks/{task['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["result"] is None
    # Cancelling twice is harmless; the state stays cancelled.
    assert http.post(f"/v1/tasks/{task['id']}/cancel").json()["status"] == "cancelled"
    assert http.get(f"/v1/tasks/{task['id']}").json()["status"] == "cancelled"
    events = http.get(f"/v1/tasks/{task['id']}/events").json()["data"]
    assert events[0]["type"] == "task.queued" and events[-1]["type"] == "task.cancelled"


def test_task_with_fail_in_the_prompt_fails(http: httpx.Client) -> None:
    task = submit(http, prompt="please fail", duration_s=0)
    assert task["status"] == "failed"
    assert task["error"]["code"] == "generation_failed"
    assert task["progress"] < 100 and task["result"] is None
    refused = http.post(f"/v1/tasks/{task['id']}/cancel")
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "task_not_cancellable"


def test_tasks_belong_to_their_user(http: httpx.Client, base: str) -> None:
    task = submit(http, prompt="mine", duration_s=0)
    other = {"Authorization": f"Bearer {SECURE.api_key}"}
    for method, path in (
        ("GET", f"/v1/tasks/{task['id']}"),
        ("GET", f"/v1/tasks/{task['id']}/events"),
        ("POST", f"/v1/tasks/{task['id']}/cancel"),
    ):
        response = httpx.request(method, base + path, headers=other, timeout=10)
        assert response.status_code == 404
        assert error_of(response)["code"] == "task_not_found"
    assert http.get("/v1/tasks/task_nope").status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"prompt": "x", "model": "gpt-4o"}, "async tasks"),
        ({"prompt": "x", "kind": "music"}, "kind"),
        ({"prompt": "x", "duration_s": -1}, "duration_s"),
        ({}, "prompt"),
        ({"prompt": "forbidden things"}, "safety system"),
    ],
)
def test_task_submit_errors_are_400(
    http: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    response = http.post("/v1/tasks", json={"model": "mj-imagine", **body})
    assert response.status_code == 400
    assert fragment in error_of(response)["message"]


# --- billing ---------------------------------------------------------------------------------


def _logged(http: httpx.Client, request_ids: list[str]) -> dict[str, dict[str, Any]]:
    """This key's consume log rows, by request id (key-authenticated /api/log/token)."""
    body = http.get("/api/log/token").json()
    assert body["success"] is True, body
    return {r["request_id"]: r for r in body["data"] if r.get("request_id") in request_ids}


def test_media_calls_are_billed_per_request_and_task_reads_are_free(http: httpx.Client) -> None:
    images = http.post(
        "/v1/images/generations",
        json={"model": "dall-e-2", "prompt": "bill me", "n": 3, "size": "256x256"},
    )
    speech = http.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "hi"})
    task = http.post("/v1/tasks", json={"model": "mj-imagine", "prompt": "t", "duration_s": 0})
    read = http.get(f"/v1/tasks/{task.json()['id']}")
    events = http.get(f"/v1/tasks/{task.json()['id']}/events")
    ids = [r.headers["X-Oneapi-Request-Id"] for r in (images, speech, task, read, events)]
    rows = _logged(http, ids)
    per_unit = EmulatorConfig().quota_per_unit
    assert rows[ids[0]]["model_name"] == "dall-e-2"
    assert rows[ids[0]]["quota"] == round(3 * MODELS["dall-e-2"].model_price * per_unit)
    assert rows[ids[1]]["quota"] == round(MODELS["tts-1"].model_price * per_unit)
    assert rows[ids[2]]["model_name"] == "mj-imagine"
    assert ids[3] not in rows and ids[4] not in rows


def test_a_refused_call_is_not_billed(http: httpx.Client) -> None:
    refused = http.post("/v1/images/generations", json={"model": "dall-e-3", "prompt": "violence"})
    assert refused.status_code == 400
    assert _logged(http, [refused.headers["X-Oneapi-Request-Id"]]) == {}


# --- every flavor ----------------------------------------------------------------------------


@pytest.mark.parametrize("flavor", list(Flavor))
def test_media_round_trip_on_every_flavor(flavor: Flavor) -> None:
    server = EmulatorServer(EmulatorConfig(flavor=flavor, port=0, rpm=1000))
    url = server.start()
    try:
        prefix = EmulatorConfig(flavor=flavor).relay_prefix
        with openai.OpenAI(api_key=DEMO.api_key, base_url=url + prefix, max_retries=0) as c:
            image = c.images.generate(model="dall-e-2", prompt="flavor", size="256x256")
            assert image.data is not None and image.data[0].url is not None
            assert png_size(httpx.get(image.data[0].url, timeout=10).content) == (256, 256)
            speech = c.audio.speech.create(model="tts-1", voice="shimmer", input=flavor.value)
            heard = c.audio.transcriptions.create(model="whisper-1", file=("s.mp3", speech.content))
            assert heard.text == flavor.value
    finally:
        server.stop()
