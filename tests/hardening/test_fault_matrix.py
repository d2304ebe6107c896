"""The service-level fault matrix: every emulator fault × each pane's main action, through the
services the panes call (chat stream, image, speech, model refresh, sign-in, token list).

For every cell: the typed error (or success after retries), the number of requests that reached
the emulator (`server.request_count(path)`) matching the retry policy, the partial answer kept for
chat, and 401/403/404 never retried. The UI-level matrix (what the user sees, responsiveness) is
the panes' business and is listed as not covered in docs/RELIABILITY.md.

A fault armed once ("transient") must be absorbed by a retry where the policy retries it; a fault
armed for every request ("persistent") must end in the typed error after exactly 1 + max_retries
requests, or after one request where the policy says never to retry.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.errors import (
    AuthFailed,
    BadRequest,
    BadResponse,
    ConnectionFailed,
    ConsoleRejected,
    Forbidden,
    GatewayError,
    NotFound,
    RateLimited,
    ServerError,
    StreamErrorEvent,
    StreamInterrupted,
    TimedOut,
)
from bluesdesk.gateway.console import TokenSpec
from bluesdesk.services.chat import ReplyFinished, ReplyUpdate
from bluesdesk.services.images import ImageRequest
from bluesdesk.services.speech import SpeechRequest
from tests.hardening.rig import ACTIONS, CHAT_PROMPT, ChatFailed, Rig, open_rig

MAX_RETRIES = 2
POLICY = RetryPolicy(max_retries=MAX_RETRIES, base_delay=0.0, max_delay=0.0, jitter=0.0)
TIMEOUT_S = 0.6
ANSWER = CHAT_PROMPT.removeprefix("echo: ")

FAULTS: dict[str, dict[str, Any]] = {
    "429": {"retry_after": 0},
    "500": {},
    "html502": {},
    "drop": {},
    "stall": {"seconds": TIMEOUT_S * 3},
    "malformed": {},
    "stream_error": {},
    "success_false": {},
    "slow_headers": {"seconds": TIMEOUT_S / 3},
    "401": {},
}
RETRYABLE = {"429", "500", "html502", "drop", "stall"}
# Faults that strike inside a body: on a stream they come after the first event, when a retry
# would repeat (and bill) an answer already shown, so chat keeps the partial text instead.
IN_BODY = {"drop", "stall", "malformed", "stream_error"}

# The typed error of a persistent fault, per action where it differs from the default column.
DEFAULT_ERROR: dict[str, type[BaseException] | None] = {
    "429": RateLimited,
    "500": ServerError,
    "html502": ServerError,
    "drop": ConnectionFailed,
    "stall": TimedOut,
    "malformed": BadResponse,
    "stream_error": BadRequest,  # an error object in a 200 JSON body
    "success_false": ConsoleRejected,
    "slow_headers": None,  # slower than usual, within the timeout: no error
    "401": AuthFailed,
}
CHAT_ERROR: dict[str, type[BaseException]] = {
    "drop": StreamInterrupted,
    "stall": StreamInterrupted,
    "malformed": StreamInterrupted,
    "stream_error": StreamErrorEvent,
}
TOKEN_LIST_401 = ConsoleRejected  # SignedOut: the stored session is dropped, sign in again


def expected(fault: str, action: str, persistent: bool) -> tuple[type[BaseException] | None, int]:
    """(typed error or None for success, requests that reach the emulator)."""
    retried = fault in RETRYABLE and action != "sign-in"  # logins are never retried
    if action == "chat stream" and fault in IN_BODY:
        return CHAT_ERROR[fault], 1
    error = DEFAULT_ERROR[fault]
    if action == "token list" and fault == "401":
        error = TOKEN_LIST_401
    if not retried:
        return error, 1
    if persistent:
        return error, 1 + MAX_RETRIES
    return None, 2


@pytest.fixture(autouse=True)
def _keyring(memory_keyring: Any) -> Any:
    """Keys and console sessions in our in-memory keyring backend."""
    return memory_keyring


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    emu = EmulatorServer(
        EmulatorConfig(flavor=Flavor.BLUESMINDS, port=0, tokens_per_second=0, rpm=100_000)
    )
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def run_cell(
    tmp_path: Path, server: EmulatorServer, action: str, fault: str, count: int
) -> tuple[Any, BaseException | None, int, Rig]:
    run, path = ACTIONS[action]

    async def main() -> tuple[Any, BaseException | None, int, Rig]:
        rig = await open_rig(
            tmp_path / "home", server.relay_url, policy=POLICY, timeout_s=TIMEOUT_S
        )
        try:
            if action == "token list":
                server.reset_faults()
                await rig.account.sign_in(DEMO.username, DEMO.password)
            server.reset_faults()
            server.arm_fault(fault, count, path_prefix=path, **FAULTS[fault])
            result: Any = None
            error: BaseException | None = None
            try:
                result = await run(rig)
            except ChatFailed as failed:
                result, error = failed.message, failed.error
            except GatewayError as exc:
                error = exc
            return result, error, server.request_count(path), rig
        finally:
            await rig.close()

    return asyncio.run(main())


def _cells(persistent: bool) -> list[Any]:
    cells = []
    for fault in FAULTS:
        for action in ACTIONS:
            marks: list[Any] = []
            quick = fault in ("401", "429", "drop") and persistent
            if not quick:
                marks.append(pytest.mark.slow)
            cells.append(pytest.param(fault, action, marks=marks, id=f"{fault}-{action}"))
    return cells


def check_cell(
    tmp_path: Path, server: EmulatorServer, fault: str, action: str, persistent: bool
) -> None:
    want_error, want_requests = expected(fault, action, persistent)
    result, error, requests, _rig = run_cell(
        tmp_path, server, action, fault, 50 if persistent else 1
    )
    if want_error is None:
        assert error is None, f"{type(error).__name__}: {error}"
    else:
        assert isinstance(error, want_error), f"got {type(error).__name__}: {error}"
        assert isinstance(error, GatewayError) and error.user_message
        assert error.describe()  # what happened and what to do, for the UI
    assert requests == want_requests
    if action == "chat stream":
        _check_chat(result, error, tmp_path)


def _check_chat(message: Any, error: BaseException | None, tmp_path: Path) -> None:
    """Nothing received is lost: the partial answer is stored, marked, and a prefix of the
    whole one; the user's message is stored whatever happened."""
    if error is None:
        assert message.state == "complete" and message.text == ANSWER
        return
    if isinstance(error, StreamInterrupted | StreamErrorEvent):
        assert message.text and ANSWER.startswith(message.text)
        assert error.partial_text and ANSWER.startswith(error.partial_text)
        assert message.state == ("interrupted" if isinstance(error, StreamInterrupted) else "error")
    else:
        assert message.state == "error" and message.text == ""
    import sqlite3

    with sqlite3.connect(tmp_path / "home" / "bluesdesk.db") as conn:
        rows = conn.execute("SELECT role, text, state FROM messages ORDER BY id").fetchall()
    assert rows[0][:2] == ("user", CHAT_PROMPT)
    assert rows[1] == ("assistant", message.text, message.state)


@pytest.mark.parametrize(("fault", "action"), _cells(persistent=True))
def test_persistent_fault(tmp_path: Path, server: EmulatorServer, fault: str, action: str) -> None:
    check_cell(tmp_path, server, fault, action, persistent=True)


@pytest.mark.parametrize(("fault", "action"), _cells(persistent=False))
def test_transient_fault(tmp_path: Path, server: EmulatorServer, fault: str, action: str) -> None:
    check_cell(tmp_path, server, fault, action, persistent=False)


# ---- 403 and 404: never retried --------------------------------------------------------------


async def _limited_key(rig: Rig) -> str:
    """A key of the demo account allowed only gpt-4o: any other model answers 403."""
    await rig.account.sign_in(DEMO.username, DEMO.password)
    token = await rig.account.create_token(TokenSpec(name="only-4o", model_limits=("gpt-4o",)))
    assert token is not None
    return await rig.account.reveal_key(token.id)


RELAY_CALLS = {
    "chat stream": "/v1/chat/completions",
    "image": "/v1/images/generations",
    "speech": "/v1/audio/speech",
}


async def _relay_call(rig: Rig, action: str, model: str) -> BaseException | None:
    client = await rig.profiles.client()
    try:
        if action == "image":
            await rig.images.generate(client, ImageRequest(model=model, prompt="x", size="256x256"))
        elif action == "speech":
            await rig.speech.synthesize(
                client, SpeechRequest(model=model, voice="nova", text="hi", format="wav")
            )
        else:
            conv = await rig.chat.new_conversation(model=model, api_style="openai")
            errors: list[BaseException] = []

            def listen(update: ReplyUpdate) -> None:
                if isinstance(update, ReplyFinished) and update.error is not None:
                    errors.append(update.error)

            await rig.chat.send(conv.id, "hello", on_update=listen)
            return errors[-1] if errors else None
    except GatewayError as exc:
        return exc
    return None


@pytest.mark.parametrize("action", list(RELAY_CALLS))
@pytest.mark.parametrize(
    ("status", "error_type"), [(403, Forbidden), (404, NotFound)], ids=["403", "404"]
)
def test_403_and_404_are_never_retried(
    tmp_path: Path,
    server: EmulatorServer,
    memory_keyring: Any,
    action: str,
    status: int,
    error_type: type[BaseException],
) -> None:
    models = {"chat stream": "gpt-4o-mini", "image": "dall-e-2", "speech": "tts-1"}

    async def main() -> tuple[BaseException | None, int]:
        rig = await open_rig(tmp_path / "home", server.relay_url, policy=POLICY)
        try:
            server.reset_faults()
            model = models[action]
            if status == 403:
                await rig.profiles.save(rig.profile, await _limited_key(rig))
            else:
                model = "no-such-model-anywhere"
            server.reset_faults()
            error = await _relay_call(rig, action, model)
            return error, server.request_count(RELAY_CALLS[action])
        finally:
            await rig.close()

    error, requests = asyncio.run(main())
    assert isinstance(error, error_type), f"got {type(error).__name__}: {error}"
    assert requests == 1


# ---- the gateway down at start-up, or gone mid-session ---------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("action", list(ACTIONS))
def test_gateway_down_at_start_up(
    tmp_path: Path, server: EmulatorServer, memory_keyring: Any, action: str
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    run, _ = ACTIONS[action]

    async def main() -> tuple[BaseException | None, float]:
        if action == "token list":
            # A console session kept from an earlier run, the gateway now unreachable.
            earlier = await open_rig(tmp_path / "home", server.relay_url, policy=POLICY)
            server.reset_faults()
            await earlier.account.sign_in(DEMO.username, DEMO.password)
            await earlier.close()
        rig = await open_rig(tmp_path / "home", url, policy=POLICY, timeout_s=TIMEOUT_S)
        started = time.monotonic()
        try:
            if action == "token list":
                # What the Account pane does first; a network failure keeps the stored token.
                with pytest.raises(ConnectionFailed):
                    await rig.account.restore()
                assert rig.account.signed_in()
            await run(rig)
        except ChatFailed as failed:
            return failed.error, time.monotonic() - started
        except GatewayError as exc:
            return exc, time.monotonic() - started
        finally:
            await rig.close()
        return None, time.monotonic() - started

    error, elapsed = asyncio.run(main())
    assert isinstance(error, ConnectionFailed), f"got {type(error).__name__}: {error}"
    assert "127.0.0.1" in error.user_message and error.hint
    assert elapsed < 5.0  # refused connections fail fast, retries included


@pytest.mark.parametrize("action", ["chat stream", "image", "model refresh", "token list"])
def test_gateway_gone_mid_session(tmp_path: Path, memory_keyring: Any, action: str) -> None:
    emu = EmulatorServer(
        EmulatorConfig(flavor=Flavor.BLUESMINDS, port=0, tokens_per_second=0, rpm=100_000)
    )
    emu.start()
    run, _ = ACTIONS[action]

    async def main() -> tuple[Any, BaseException | None]:
        rig = await open_rig(tmp_path / "home", emu.relay_url, policy=POLICY, timeout_s=TIMEOUT_S)
        try:
            if action == "token list":
                await rig.account.sign_in(DEMO.username, DEMO.password)
            first = await run(rig)
            await asyncio.to_thread(emu.stop)
            try:
                await run(rig)
            except ChatFailed as failed:
                return first, failed.error
            except GatewayError as exc:
                return first, exc
            return first, None
        finally:
            await rig.close()

    try:
        first, error = asyncio.run(main())
    finally:
        emu.stop()
    assert first is not None
    assert isinstance(error, ConnectionFailed), f"got {type(error).__name__}: {error}"
