"""One HTTP client per gateway profile: auth, limits, retries, and typed errors at the boundary.

Nothing above this module sees httpx: every transport failure, error status or malformed answer
leaves here as a `bluesdesk.errors.GatewayError`. Response headers are read into `ResponseMeta`
and handed to `meta_listeners` (the status bar) after every response.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import ipaddress
import logging
import random
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from bluesdesk import __version__
from bluesdesk.core.headers import response_meta
from bluesdesk.core.models import ApiStyle, GatewayProfile, ResponseMeta
from bluesdesk.core.pacing import ReadPacer
from bluesdesk.core.ratelimit import GATEWAY_MARGIN_S, RpmLimiter
from bluesdesk.core.redact import redact_known, register_secret
from bluesdesk.core.retry import (
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    should_retry,
)
from bluesdesk.core.stream import SSEParser
from bluesdesk.errors import (
    BadResponse,
    ConnectionFailed,
    GatewayError,
    RateLimited,
    StreamInterrupted,
    TimedOut,
)
from bluesdesk.gateway.errors import (
    bad_response,
    looks_like_html,
    ok_body_error,
    parse_json_text,
    redirect_error,
    status_error,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
ANTHROPIC_VERSION = "2023-06-01"


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def auth_headers(style: ApiStyle, api_key: str | None) -> dict[str, str]:
    """The credentials header(s) each API style expects."""
    headers: dict[str, str] = {}
    if style is ApiStyle.CLAUDE:
        headers["anthropic-version"] = ANTHROPIC_VERSION
    if not api_key:
        return headers
    if style is ApiStyle.CLAUDE:
        headers["x-api-key"] = api_key
    elif style is ApiStyle.GEMINI:
        headers["x-goog-api-key"] = api_key
    else:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


class GatewayClient:
    """Talks to one gateway profile. Create once per profile (see `GatewayPool`) and reuse."""

    def __init__(
        self,
        profile: GatewayProfile,
        api_key: str | None,
        *,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.profile = profile
        self.api_key = api_key
        self.policy = policy or RetryPolicy()
        self.meta_listeners: list[Callable[[ResponseMeta], None]] = []
        self.last_meta = ResponseMeta()
        # The gateway counts a request when it arrives, a moment after we booked its slot: reuse a
        # slot a little after one window, or the next wave lands while the old one still counts.
        self.limiter = RpmLimiter(profile.rpm_limit, time.monotonic, margin=GATEWAY_MARGIN_S)
        self._rand: Callable[[], float] = random.random
        if api_key:
            register_secret(api_key)
        url = urlsplit(profile.base_url)
        if url.scheme == "http" and not is_loopback(url.hostname or ""):
            log.warning(
                "Profile %r sends its API key unencrypted over http:// to %s; use https://",
                profile.name,
                url.hostname,
            )
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(
                profile.timeout_s, connect=min(CONNECT_TIMEOUT_S, profile.timeout_s)
            ),
            verify=True,
            follow_redirects=False,
            headers={"User-Agent": f"bluesdesk/{__version__}", "Accept-Language": "en"},
        )

    # ---- URLs and headers -------------------------------------------------------------------

    def url(self, path: str, style: ApiStyle = ApiStyle.OPENAI) -> str:
        """An absolute URL: relay paths hang off base_url, Gemini's /v1beta off the root."""
        if path.startswith(("http://", "https://")):
            return path
        if style is ApiStyle.GEMINI or path.startswith("/v1beta"):
            return self.profile.root_url.rstrip("/") + "/" + path.lstrip("/")
        return self.profile.base_url.rstrip("/") + "/" + path.lstrip("/")

    def _headers(
        self, method: str, style: ApiStyle, idempotency_key: str, *, with_key: bool = True
    ) -> dict[str, str]:
        headers = auth_headers(style, self.api_key if with_key else None)
        if method.upper() == "POST":
            headers["Idempotency-Key"] = idempotency_key
        return headers

    # ---- shared plumbing ----------------------------------------------------------------------

    async def _wait_for_slot(self) -> None:
        delay = self.limiter.reserve()
        if delay > 0:
            log.info("RPM limit %d reached; waiting %.1f s", self.limiter.rpm, delay)
            await asyncio.sleep(delay)

    def _record(self, response: httpx.Response, started: float) -> ResponseMeta:
        meta = response_meta(
            response.headers,
            response.status_code,
            (time.monotonic() - started) * 1000.0,
            now=time.time(),
        )
        self.last_meta = meta
        for listener in list(self.meta_listeners):
            listener(meta)
        return meta

    def _transport_error(self, exc: httpx.TransportError) -> GatewayError:
        host = urlsplit(self.profile.base_url).hostname or self.profile.base_url
        if isinstance(exc, httpx.TimeoutException):
            return TimedOut(
                f"The gateway at {host} did not answer within {self.profile.timeout_s:g} s.",
                profile=self.profile.name,
            )
        if isinstance(exc, httpx.ConnectError):
            return ConnectionFailed(
                f"Could not connect to the gateway at {host}: "
                f"{redact_known(str(exc)) or 'connection refused'}.",
                profile=self.profile.name,
            )
        return ConnectionFailed(
            f"The connection to the gateway at {host} broke: "
            f"{redact_known(str(exc)) or type(exc).__name__}.",
            profile=self.profile.name,
        )

    def _error_for(
        self, response: httpx.Response, body_text: str, meta: ResponseMeta
    ) -> GatewayError:
        return status_error(
            response.status_code,
            body_text,
            response.headers.get("content-type", ""),
            request_id=meta.request_id,
            retry_after=parse_retry_after(response.headers, time.time()),
            profile=self.profile.name,
        )

    async def _pause_before_retry(self, attempt: int, error: GatewayError) -> None:
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        delay = backoff_delay(attempt, self.policy, retry_after, self._rand)
        log.info(
            "Retrying after %s (attempt %d of %d) in %.2f s",
            type(error).__name__,
            attempt + 1,
            self.policy.max_retries,
            delay,
        )
        if delay > 0:
            await asyncio.sleep(delay)

    @staticmethod
    def _retryable(error: GatewayError) -> bool:
        if isinstance(error, TimedOut):
            return should_retry(None, exc_kind="timeout")
        status = getattr(error, "status", None)
        if isinstance(status, int):
            return should_retry(status)
        if isinstance(error, ConnectionFailed):
            return should_retry(None, exc_kind="connect")
        return False

    # ---- JSON requests ------------------------------------------------------------------------

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        style: ApiStyle = ApiStyle.OPENAI,
        headers: Mapping[str, str] | None = None,
        send_key: bool = True,
        keep_failure: bool = False,
    ) -> tuple[Any, ResponseMeta]:
        """Send one request (retrying per policy) and return the decoded JSON body and meta.

        `headers` are added last (console logins bring their own Authorization);
        `send_key=False` leaves the API key out (new-api /api routes never take it).
        `keep_failure=True` returns a new-api `success: false` body instead of raising
        ConsoleRejected, for the few answers whose failure carries data (a channel test's time).
        """
        url = self.url(path, style)
        headers = {
            **self._headers(method, style, uuid.uuid4().hex, with_key=send_key),
            **(headers or {}),
        }
        attempt = 0
        while True:
            try:
                return await self._json_once(method, url, json, params, headers, keep_failure)
            except GatewayError as error:
                if attempt >= self.policy.max_retries or not self._retryable(error):
                    raise
                await self._pause_before_retry(attempt, error)
                attempt += 1

    async def _json_once(
        self,
        method: str,
        url: str,
        body: Any,
        params: Mapping[str, Any] | None,
        headers: dict[str, str],
        keep_failure: bool = False,
    ) -> tuple[Any, ResponseMeta]:
        await self._wait_for_slot()
        started = time.monotonic()
        log.debug("%s %s", method, redact_known(url))
        try:
            response = await self._http.request(
                method, url, json=body, params=dict(params) if params else None, headers=headers
            )
        except httpx.TransportError as exc:
            raise self._transport_error(exc) from exc
        meta = self._record(response, started)
        text = response.text
        if response.status_code >= 400:
            raise self._error_for(response, text, meta)
        if response.is_redirect:
            raise redirect_error(
                response.headers.get("location", ""),
                request_id=meta.request_id,
                profile=self.profile.name,
            )
        content_type = response.headers.get("content-type", "")
        data = parse_json_text(text) if text.strip() else None
        if data is None or looks_like_html(content_type, text):
            raise bad_response(
                content_type,
                text,
                what="json",
                request_id=meta.request_id,
                profile=self.profile.name,
            )
        if keep_failure and isinstance(data, dict) and data.get("success") is False:
            return data, meta
        hidden = ok_body_error(
            data, status=response.status_code, request_id=meta.request_id, profile=self.profile.name
        )
        if hidden is not None:
            raise hidden
        return data, meta

    # ---- binary bodies and multipart uploads ------------------------------------------------

    async def request_bytes(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> tuple[bytes, str, ResponseMeta]:
        """Send one request (retrying per policy) and return (body, content type, meta).

        For answers that are not JSON (speech audio, image downloads). `data` + `files` make a
        multipart/form-data body; `files` maps a field to (file name, bytes, media type). A 2xx
        answer that is an HTML page or a JSON error object still raises the typed error. The
        API key goes only to the gateway's own origin: a `path` on another host (an image CDN
        link) is fetched without credentials.
        """
        url = self.url(path)
        headers = self._headers(method, ApiStyle.OPENAI, uuid.uuid4().hex)
        if not self._same_origin(url):
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        attempt = 0
        while True:
            try:
                return await self._bytes_once(method, url, headers, json, data, files)
            except GatewayError as error:
                if attempt >= self.policy.max_retries or not self._retryable(error):
                    raise
                await self._pause_before_retry(attempt, error)
                attempt += 1

    async def request_multipart(
        self,
        path: str,
        *,
        data: Mapping[str, str],
        files: Mapping[str, tuple[str, bytes, str]],
    ) -> tuple[Any, ResponseMeta]:
        """POST a multipart/form-data body (image edits, transcriptions); decode a JSON answer."""
        body, content_type, meta = await self.request_bytes("POST", path, data=data, files=files)
        text = body.decode("utf-8", "replace")
        parsed = parse_json_text(text) if text.strip() else None
        if parsed is None:
            raise bad_response(
                content_type, text, what="json", request_id=meta.request_id,
                profile=self.profile.name,
            )  # fmt: skip
        return parsed, meta

    def _same_origin(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.profile.base_url)
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)

    async def _bytes_once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any,
        data: Mapping[str, str] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
    ) -> tuple[bytes, str, ResponseMeta]:
        await self._wait_for_slot()
        started = time.monotonic()
        log.debug("%s %s (bytes)", method, redact_known(url))
        try:
            response = await self._http.request(
                method,
                url,
                json=body,
                data=dict(data) if data is not None else None,
                files=dict(files) if files is not None else None,
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise self._transport_error(exc) from exc
        meta = self._record(response, started)
        content = response.content
        content_type = response.headers.get("content-type", "")
        if response.status_code >= 400:
            raise self._error_for(response, content.decode("utf-8", "replace"), meta)
        if response.is_redirect:
            raise redirect_error(
                response.headers.get("location", ""),
                request_id=meta.request_id,
                profile=self.profile.name,
            )
        lowered = content_type.lower()
        # Some gateways send a JSON error under the audio/image content type they promised;
        # no audio or image format starts with "{", so such a body is read as JSON too.
        sniffed_json = content[:64].lstrip()[:1] == b"{"
        if "html" in lowered or "json" in lowered or sniffed_json:
            text = content.decode("utf-8", "replace")
            if looks_like_html(content_type, text):
                raise bad_response(
                    content_type, text, what="bytes", request_id=meta.request_id,
                    profile=self.profile.name,
                )  # fmt: skip
            hidden = ok_body_error(
                parse_json_text(text),
                status=response.status_code,
                request_id=meta.request_id,
                profile=self.profile.name,
            )
            if hidden is not None:
                raise hidden
        return content, content_type, meta

    # ---- streams ------------------------------------------------------------------------------

    async def stream_events(
        self, path: str, body: dict[str, Any], *, style: ApiStyle
    ) -> AsyncGenerator[tuple[str, str], None]:
        """POST `body` and yield (event, data) SSE pairs.

        Failures before the first event are retried per policy; after it, a broken connection
        raises StreamInterrupted (partial text is the caller's to add). A body that simply ends
        is not judged here: whether it ended properly depends on the API style's decoder.
        """
        url = self.url(path, style)
        headers = self._headers("POST", style, uuid.uuid4().hex)
        headers["Accept"] = "text/event-stream"
        attempt = 0
        while True:
            yielded = False
            try:
                # aclosing: if our caller stops early, the HTTP stream is closed right here
                # rather than by the garbage collector.
                async with contextlib.aclosing(self._stream_once(url, body, headers)) as events:
                    async for item in events:
                        yielded = True
                        yield item
                return
            except GatewayError as error:
                if yielded:
                    if isinstance(error, (ConnectionFailed, BadResponse)) and not isinstance(
                        error, StreamInterrupted
                    ):
                        raise StreamInterrupted(
                            "The answer stopped part-way: " + error.user_message,
                            profile=self.profile.name,
                            request_id=self.last_meta.request_id,
                        ) from error
                    raise
                if attempt >= self.policy.max_retries or not self._retryable(error):
                    raise
                await self._pause_before_retry(attempt, error)
                attempt += 1

    async def _stream_once(
        self, url: str, body: dict[str, Any], headers: dict[str, str]
    ) -> AsyncGenerator[tuple[str, str], None]:
        await self._wait_for_slot()
        started = time.monotonic()
        log.debug("POST %s (stream)", redact_known(url))
        try:
            async with self._http.stream("POST", url, json=body, headers=headers) as response:
                meta = self._record(response, started)
                if response.status_code >= 400:
                    text = (await response.aread()).decode("utf-8", "replace")
                    raise self._error_for(response, text, meta)
                if response.is_redirect:
                    raise redirect_error(
                        response.headers.get("location", ""),
                        request_id=meta.request_id,
                        profile=self.profile.name,
                    )
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type.lower():
                    text = (await response.aread()).decode("utf-8", "replace")
                    hidden = ok_body_error(
                        parse_json_text(text),
                        status=response.status_code,
                        request_id=meta.request_id,
                        profile=self.profile.name,
                    )
                    raise hidden or bad_response(
                        content_type,
                        text,
                        what="stream",
                        request_id=meta.request_id,
                        profile=self.profile.name,
                    )
                parser = SSEParser()
                decoder = _Utf8()
                pacer = ReadPacer()
                pacer.asking()
                async for chunk in response.aiter_bytes():
                    pacer.arrived(len(chunk))
                    items = parser.feed(decoder.decode(chunk))
                    for item in items:
                        yield item
                        if pacer.should_yield():  # a big read: let timers and painting run
                            await asyncio.sleep(0)
                            pacer.turn_started()
                    pause = pacer.pause(len(items))
                    if pause:  # tokens trickle in fast: take them a few at a time, not one by one
                        await asyncio.sleep(pause)
                    pacer.asking()
                for item in parser.feed(decoder.flush()) + parser.close():
                    yield item
        except httpx.TransportError as exc:
            raise self._transport_error(exc) from exc

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed


class _Utf8:
    """Incremental UTF-8 decoding: a multi-byte character may be split across chunks."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def decode(self, chunk: bytes) -> str:
        return self._decoder.decode(chunk)

    def flush(self) -> str:
        return self._decoder.decode(b"", final=True)


class GatewayPool:
    """One GatewayClient per profile id; a changed profile or key gets a fresh client."""

    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._policy = policy
        self._transport_factory = transport_factory
        self._clients: dict[str, tuple[GatewayProfile, str | None, GatewayClient]] = {}
        self._retired: list[GatewayClient] = []
        self.meta_listeners: list[Callable[[GatewayProfile, ResponseMeta], None]] = []

    def client(self, profile: GatewayProfile, api_key: str | None) -> GatewayClient:
        cached = self._clients.get(profile.id)
        if cached is not None:
            cached_profile, cached_key, client = cached
            if cached_profile == profile and cached_key == api_key and not client.closed:
                return client
            self._retired.append(client)  # closed in aclose(): an in-flight call may still use it
        client = GatewayClient(
            profile,
            api_key,
            policy=self._policy,
            transport=self._transport_factory() if self._transport_factory else None,
        )
        client.meta_listeners.append(lambda meta: self._forward(profile, meta))
        self._clients[profile.id] = (profile, api_key, client)
        return client

    def _forward(self, profile: GatewayProfile, meta: ResponseMeta) -> None:
        for listener in list(self.meta_listeners):
            listener(profile, meta)

    async def aclose(self) -> None:
        clients = [entry[2] for entry in self._clients.values()] + self._retired
        self._clients.clear()
        self._retired.clear()
        for client in clients:
            await client.aclose()
