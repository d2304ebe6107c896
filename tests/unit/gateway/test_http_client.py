"""GatewayClient over httpx.MockTransport: byte-level framing, headers, retries, typed errors.

The emulator tests (tests/integration/gateway) cover the same paths over real sockets; these
cover what a server cannot show us from the outside: the exact request headers, chunk splits
inside an SSE frame or a UTF-8 character, and transport exceptions at chosen points.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from bluesdesk import __version__
from bluesdesk.core.models import (
    ApiStyle,
    ChatMessage,
    ChatParams,
    Delta,
    GatewayProfile,
    ResponseMeta,
)
from bluesdesk.core.ratelimit import RpmLimiter
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.errors import (
    AuthFailed,
    BadResponse,
    ConnectionFailed,
    ConsoleRejected,
    RateLimited,
    ServerError,
    StreamErrorEvent,
    StreamInterrupted,
    TimedOut,
)
from bluesdesk.gateway import GatewayClient, GatewayPool, complete_chat, list_models, stream_chat

T = TypeVar("T")
KEY = "sk-" + "Q" * 48
FAST = RetryPolicy(max_retries=2, base_delay=0.0, max_delay=0.0, jitter=0.0)
PROFILE = GatewayProfile(id="p1", name="Test", base_url="https://gw.example/v1")
MSGS = [ChatMessage("user", "hi")]
PARAMS = ChatParams(model="gpt-4o-mini")


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


class Recorder:
    """A MockTransport handler that answers from a list and records each request."""

    def __init__(self, *responses: Callable[[httpx.Request], httpx.Response]) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses[min(len(self.requests), len(self.responses)) - 1]
        return answer(request)


def client_for(
    rec: Recorder, profile: GatewayProfile = PROFILE, key: str | None = KEY
) -> GatewayClient:
    return GatewayClient(profile, key, policy=FAST, transport=httpx.MockTransport(rec))


def json_reply(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[..., httpx.Response]:
    return lambda request: httpx.Response(status, json=body, headers=headers)


def sse_reply(
    chunks: list[bytes], *, fail: Exception | None = None, status: int = 200
) -> Callable[..., httpx.Response]:
    async def body() -> AsyncIterator[bytes]:
        for piece in chunks:
            yield piece
        if fail is not None:
            raise fail

    return lambda request: httpx.Response(
        status, headers={"content-type": "text/event-stream"}, content=body()
    )


def openai_chunk(text: str | None = None, finish: str | None = None) -> bytes:
    delta = {"content": text} if text is not None else {}
    payload = {
        "id": "c1",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(payload)}\n\n".encode()


async def collect(client: GatewayClient, style: ApiStyle = ApiStyle.OPENAI) -> list[Any]:
    try:
        return [event async for event in stream_chat(client, MSGS, PARAMS, style=style)]
    finally:
        await client.aclose()


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, Delta) and e.kind == "text")


# ---- byte-level framing ---------------------------------------------------------------------


def test_frames_and_utf8_split_across_chunks() -> None:
    whole = openai_chunk("héllo ✓") + openai_chunk(" wörld", finish="stop") + b"data: [DONE]\n\n"
    # Cut every 3 bytes: splits field names, JSON, the blank line and multi-byte characters.
    pieces = [whole[i : i + 3] for i in range(0, len(whole), 3)]
    rec = Recorder(sse_reply(pieces))
    events = run(collect(client_for(rec)))
    assert text_of(events) == "héllo ✓ wörld"


def test_crlf_frames() -> None:
    whole = (openai_chunk("a") + openai_chunk("b", finish="stop")).replace(b"\n", b"\r\n")
    rec = Recorder(sse_reply([whole[:7], whole[7:]]))
    assert text_of(run(collect(client_for(rec)))) == "ab"


def test_stream_ending_without_done_or_finish_is_interrupted() -> None:
    rec = Recorder(sse_reply([openai_chunk("part"), openai_chunk("ial")]))
    with pytest.raises(StreamInterrupted) as info:
        run(collect(client_for(rec)))
    assert info.value.partial_text == "partial"


def test_truncated_last_frame_is_interrupted_not_malformed() -> None:
    rec = Recorder(sse_reply([openai_chunk("kept"), b'data: {"id":"c1","choi']))
    with pytest.raises(StreamInterrupted) as info:
        run(collect(client_for(rec)))
    assert info.value.partial_text == "kept"


def test_connection_break_after_first_event_keeps_partial_and_is_not_retried() -> None:
    rec = Recorder(
        sse_reply([openai_chunk("Hello"), openai_chunk(" wor")], fail=httpx.ReadError("reset"))
    )
    with pytest.raises(StreamInterrupted) as info:
        run(collect(client_for(rec)))
    assert info.value.partial_text == "Hello wor"
    assert len(rec.requests) == 1


def test_connection_break_before_first_event_is_retried() -> None:
    rec = Recorder(
        sse_reply([], fail=httpx.RemoteProtocolError("peer closed")),
        sse_reply([openai_chunk("ok", finish="stop"), b"data: [DONE]\n\n"]),
    )
    assert text_of(run(collect(client_for(rec)))) == "ok"
    assert len(rec.requests) == 2


def test_error_inside_a_200_stream() -> None:
    err = {"error": {"message": "upstream died", "type": "upstream_error", "code": "bad_response"}}
    rec = Recorder(sse_reply([openai_chunk("so far"), f"data: {json.dumps(err)}\n\n".encode()]))
    with pytest.raises(StreamErrorEvent) as info:
        run(collect(client_for(rec)))
    assert info.value.partial_text == "so far"
    assert info.value.code == "bad_response"
    assert "upstream died" in info.value.user_message


def test_malformed_payload_before_text_is_bad_response() -> None:
    rec = Recorder(sse_reply([b"data: {nope\n\n"]))
    with pytest.raises(BadResponse):
        run(collect(client_for(rec)))


def test_malformed_payload_after_text_keeps_partial() -> None:
    rec = Recorder(sse_reply([openai_chunk("abc"), b"data: {nope\n\n"]))
    with pytest.raises(StreamInterrupted) as info:
        run(collect(client_for(rec)))
    assert info.value.partial_text == "abc"


def test_stream_answered_with_a_web_page() -> None:
    rec = Recorder(lambda r: httpx.Response(200, html="<!doctype html><html>shop</html>"))
    with pytest.raises(BadResponse, match="web page"):
        run(collect(client_for(rec)))


def test_stream_answered_with_success_false() -> None:
    rec = Recorder(json_reply({"success": False, "message": "nope"}))
    with pytest.raises(ConsoleRejected, match="nope"):
        run(collect(client_for(rec)))


# ---- headers, URLs and auth -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "url", "auth"),
    [
        (
            ApiStyle.OPENAI,
            "https://gw.example/v1/chat/completions",
            {"authorization": f"Bearer {KEY}"},
        ),
        (
            ApiStyle.CLAUDE,
            "https://gw.example/v1/messages",
            {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        ),
        (
            ApiStyle.GEMINI,
            "https://gw.example/v1beta/models/gpt-4o-mini:streamGenerateContent?alt=sse",
            {"x-goog-api-key": KEY},
        ),
    ],
)
def test_style_urls_and_auth_headers(style: ApiStyle, url: str, auth: dict[str, str]) -> None:
    rec = Recorder(sse_reply([]))
    with pytest.raises(StreamInterrupted):
        run(collect(client_for(rec), style))
    request = rec.requests[0]
    assert str(request.url) == url
    for name, value in auth.items():
        assert request.headers[name] == value
    assert request.headers["user-agent"] == f"bluesdesk/{__version__}"
    assert request.headers["accept-language"] == "en"
    assert request.headers["idempotency-key"]
    body = json.loads(request.content)
    if style is ApiStyle.GEMINI:
        assert body["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    else:
        assert body["stream"] is True


def test_same_idempotency_key_on_every_retry_of_a_post() -> None:
    rec = Recorder(
        json_reply({"error": {"message": "x"}}, 500),
        json_reply({"error": {"message": "y"}}, 503),
        json_reply({"choices": [{"message": {"content": "done"}}]}),
    )
    text, _usage, _meta = run(complete_chat(client_for(rec), MSGS, PARAMS))
    assert text == "done"
    keys = {r.headers["idempotency-key"] for r in rec.requests}
    assert len(rec.requests) == 3 and len(keys) == 1
    # …and a new call gets a new key.
    rec2 = Recorder(json_reply({"choices": [{"message": {"content": "x"}}]}))
    run(complete_chat(client_for(rec2), MSGS, PARAMS))
    assert rec2.requests[0].headers["idempotency-key"] not in keys


def test_get_has_no_idempotency_key_and_lists_models() -> None:
    rec = Recorder(
        json_reply(
            {
                "object": "list",
                "data": [
                    {
                        "id": "a",
                        "owned_by": "openai",
                        "created": 5,
                        "supported_endpoint_types": ["openai"],
                    },
                    {"id": "b"},
                ],
            }
        )
    )
    models = run(list_models(client_for(rec)))
    assert [m.id for m in models] == ["a", "b"]
    assert models[0].endpoint_types == ("openai",)
    assert "idempotency-key" not in rec.requests[0].headers
    assert str(rec.requests[0].url) == "https://gw.example/v1/models"


def test_no_key_sends_no_auth_header() -> None:
    rec = Recorder(json_reply({"data": []}))
    run(list_models(client_for(rec, key=None)))
    assert "authorization" not in rec.requests[0].headers


# ---- retries and typed errors -----------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_not_retried(status: int) -> None:
    rec = Recorder(json_reply({"error": {"message": "no"}}, status))
    with pytest.raises(Exception) as info:
        run(list_models(client_for(rec)))
    assert getattr(info.value, "status", None) == status
    assert len(rec.requests) == 1


def test_401_is_auth_failed_with_request_id() -> None:
    rec = Recorder(json_reply({"error": {"message": "Invalid token (request id: RID9)"}}, 401))
    with pytest.raises(AuthFailed) as info:
        run(list_models(client_for(rec)))
    assert info.value.request_id == "RID9"


def test_5xx_retried_then_server_error() -> None:
    rec = Recorder(json_reply({"error": {"message": "down"}}, 502))
    with pytest.raises(ServerError, match="down"):
        run(list_models(client_for(rec)))
    assert len(rec.requests) == 1 + FAST.max_retries


def test_retry_after_is_honoured() -> None:
    rec = Recorder(json_reply({}, 429, {"Retry-After": "0.3"}), json_reply({"data": []}))
    started = time.monotonic()
    assert run(list_models(client_for(rec))) == []
    assert time.monotonic() - started >= 0.3
    assert len(rec.requests) == 2


def test_rate_limited_after_retries_carries_retry_after() -> None:
    rec = Recorder(json_reply({}, 429, {"Retry-After": "0"}))
    with pytest.raises(RateLimited) as info:
        run(list_models(client_for(rec)))
    assert info.value.retry_after == 0.0
    assert len(rec.requests) == 3


def test_connect_error_retried_then_connection_failed() -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused")

    client = GatewayClient(PROFILE, KEY, policy=FAST, transport=httpx.MockTransport(refuse))
    with pytest.raises(ConnectionFailed) as info:
        run(list_models(client))
    assert not isinstance(info.value, TimedOut)
    assert "gw.example" in info.value.user_message
    assert len(calls) == 3


def test_timeout_is_timed_out() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    client = GatewayClient(PROFILE, KEY, policy=FAST, transport=httpx.MockTransport(slow))
    with pytest.raises(TimedOut):
        run(list_models(client))


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        (lambda r: httpx.Response(200, html="<html><body>Welcome</body></html>"), "web page"),
        (
            lambda r: httpx.Response(
                200, text="{not json", headers={"content-type": "application/json"}
            ),
            "not valid JSON",
        ),
        (lambda r: httpx.Response(200, text=""), "not valid JSON"),
    ],
)
def test_bad_2xx_bodies(reply: Callable[..., httpx.Response], needle: str) -> None:
    rec = Recorder(reply)
    with pytest.raises(BadResponse, match=needle):
        run(list_models(client_for(rec)))
    assert len(rec.requests) == 1


def test_meta_listeners_see_every_response() -> None:
    rec = Recorder(
        json_reply({}, 500, {"X-Oneapi-Request-Id": "r1"}),
        json_reply({"data": []}, 200, {"X-Oneapi-Request-Id": "r2", "X-RateLimit-Remaining": "9"}),
    )
    client = client_for(rec)
    seen: list[ResponseMeta] = []
    client.meta_listeners.append(seen.append)
    run(list_models(client))
    assert [(m.request_id, m.status) for m in seen] == [("r1", 500), ("r2", 200)]
    assert client.last_meta.ratelimit_remaining == 9


def test_key_never_in_error_text() -> None:
    def leak(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"failed for Authorization: Bearer {KEY}")

    client = GatewayClient(PROFILE, KEY, policy=FAST, transport=httpx.MockTransport(leak))
    with pytest.raises(ConnectionFailed) as info:
        run(list_models(client))
    assert KEY not in info.value.describe()


def test_rpm_limiter_spaces_requests() -> None:
    rec = Recorder(json_reply({"data": []}))
    client = client_for(rec)
    client.limiter = RpmLimiter(1, time.monotonic, window=0.25)

    async def twice() -> float:
        started = time.monotonic()
        await list_models(client)
        await list_models(client)
        await client.aclose()
        return time.monotonic() - started

    assert run(twice()) >= 0.25


# ---- profile checks and the pool --------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "warned"),
    [
        ("http://gw.example/v1", True),
        ("http://127.0.0.1:8080/v1", False),
        ("http://localhost:9/v1", False),
        ("https://gw.example/v1", False),
    ],
)
def test_plain_http_to_a_remote_host_warns(
    base_url: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bluesdesk.gateway")
    client = GatewayClient(GatewayProfile(id="x", name="X", base_url=base_url), KEY, policy=FAST)
    run(client.aclose())
    assert any("http://" in r.getMessage() for r in caplog.records) is warned


def test_pool_reuses_clients_per_profile_and_key() -> None:
    pool = GatewayPool(transport_factory=lambda: httpx.MockTransport(Recorder(json_reply({}))))
    first = pool.client(PROFILE, KEY)
    assert pool.client(PROFILE, KEY) is first
    other_key = pool.client(PROFILE, KEY + "x")
    assert other_key is not first
    edited = pool.client(
        GatewayProfile(id="p1", name="Test", base_url="https://gw2.example/v1"), KEY + "x"
    )
    assert edited is not other_key
    second_profile = pool.client(GatewayProfile(id="p2", name="Two", base_url="https://b/v1"), None)
    run(pool.aclose())
    assert all(c.closed for c in (first, other_key, edited, second_profile))


@pytest.mark.parametrize("stream", [False, True])
def test_redirects_are_reported_not_followed(stream: bool) -> None:
    rec = Recorder(lambda r: httpx.Response(301, headers={"location": "https://api.gw.example/v1"}))
    with pytest.raises(BadResponse, match="redirected") as info:
        run(collect(client_for(rec)) if stream else list_models(client_for(rec)))
    assert "api.gw.example" in info.value.user_message
    assert len(rec.requests) == 1
