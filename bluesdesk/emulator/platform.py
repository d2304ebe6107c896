"""The relay platform: wraps every `RelayRoute` handler in what a gateway does around a call.

Order per request (the middleware has already counted it, assigned a request id and answered
pre-response faults): key auth in the route's style → group check → per-key RPM → quota
pre-check → Idempotency-Key replay → X-TT-Dry-Run estimate → handler → billing + consume log.
Streams are billed when their last event has gone out; faults act between their events.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from bluesdesk.emulator.billing import (
    estimate_completion_tokens,
    estimate_prompt_tokens,
    quota_for,
    usd,
)
from bluesdesk.emulator.catalog import MODELS
from bluesdesk.emulator.config import Flavor
from bluesdesk.emulator.faults import DroppedConnectionError, Fault, stall
from bluesdesk.emulator.relay import KeyContext, RelayCall, RelayError, RelayRoute, Style
from bluesdesk.emulator.state import EmulatorState, Replay, StreamOutcome

Endpoint = Callable[[Request], Awaitable[Response]]

_CLAUDE_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def fault_of(request: Request) -> Fault | None:
    fault = request.scope.get("state", {}).get("fault")
    return fault if isinstance(fault, Fault) else None


def openai_error_body(err: RelayError, request_id: str) -> dict[str, Any]:
    return {
        "error": {
            "message": f"{err.message} (request id: {request_id})",
            "type": err.type,
            "param": "",
            "code": err.code,
        }
    }


def error_body(err: RelayError, style: Style, request_id: str) -> dict[str, Any]:
    if style == "claude":
        kind = err.type
        if kind == "new_api_error":
            kind = _CLAUDE_TYPES.get(err.status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": err.message}}
    if style == "gemini":
        return {
            "error": {
                "code": err.status,
                "message": err.message,
                "status": _GEMINI_STATUS.get(err.status, "UNKNOWN"),
            }
        }
    return openai_error_body(err, request_id)


def error_response(
    err: RelayError, style: Style, request_id: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(err, style, request_id),
        status_code=err.status,
        headers={**(headers or {}), **err.headers},
    )


def stream_error_event(style: Style, request_id: str) -> str:
    """The in-band error a gateway sends after a 200 stream has started."""
    if style == "claude":
        payload = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        return f"event: error\ndata: {json.dumps(payload)}\n\n"
    err = RelayError(
        500, "upstream stream interrupted", code="bad_response", type_="upstream_error"
    )
    return f"data: {json.dumps(error_body(err, style, request_id))}\n\n"


MALFORMED_EVENT = 'data: {"id":"broken","choices":[{"delta":{"content":"unterminated\n\n'


async def form_fields(request: Request) -> dict[str, Any]:
    """A form body's text fields as a dict (files are skipped: a dry run prices the fields).

    Numeric fields arrive as text; `n` is turned into an int so the estimate counts images.
    """
    fields: dict[str, Any] = {}
    async with request.form(max_files=8, max_fields=64) as form:
        for name, value in form.multi_items():
            if isinstance(value, str) and name not in fields:
                fields[name] = value
    n = fields.get("n")
    if isinstance(n, str):
        fields["n"] = int(n) if n.isdigit() else 1
    return fields


class RelayPlatform:
    """Builds Starlette endpoints for relay routes, sharing one `EmulatorState`."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.config = state.config
        # Idempotency keys held by a stream still sending; released when it ends.
        self._streaming: set[str] = set()

    # -- auth -------------------------------------------------------------------------------

    def _presented_key(self, request: Request, route: RelayRoute) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        if route.path.startswith("/v1/messages") or route.path.startswith("/v1/models"):
            key = request.headers.get("x-api-key")
            if key:
                return key.strip()
        if route.path.startswith("/v1beta"):
            key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
            if key:
                return key.strip()
        return None

    def authenticate(self, request: Request, route: RelayRoute) -> KeyContext:
        """The key's context, or a pre-relay RelayError (always rendered OpenAI-shaped)."""
        invalid = RelayError(401, "Invalid token")
        presented = self._presented_key(request, route)
        if not presented:
            raise invalid
        body = presented.removeprefix("sk-")
        token = self.state.store.one("SELECT * FROM tokens WHERE key = ?", (body,))
        if token is None or token["status"] != 1:
            raise invalid
        now = int(time.time())
        if token["expired_time"] != -1 and token["expired_time"] < now:
            self.state.store.update("tokens", token["id"], {"status": 3})
            raise invalid
        if not token["unlimited_quota"] and token["remain_quota"] <= 0:
            raise invalid
        user = self.state.user(token["user_id"])
        if user is None:
            raise invalid
        if user["status"] != 1:
            raise RelayError(403, "User has been banned", code="access_denied")
        group = token["grp"]
        if group not in ("", "auto") and group not in self.state.usable_groups(user["grp"]):
            raise RelayError(
                403, f"Group {group} is not usable for this user", code="access_denied"
            )
        if user["quota"] <= 0:
            raise RelayError(403, "User quota is not enough", code="insufficient_user_quota")
        return self.state.key_context(token, user)

    # -- headers ----------------------------------------------------------------------------

    def _flavor_headers(self, request_id: str) -> dict[str, str]:
        # The ids are set here too (not only by the middleware) so that replays carry them.
        headers = {"X-Oneapi-Request-Id": request_id, "X-Request-ID": request_id}
        if self.config.flavor is Flavor.MINDPROXY:
            headers["X-TT-Request-ID"] = request_id
            headers["X-TT-Hold-ID"] = "hold_" + hashlib.sha1(request_id.encode()).hexdigest()[:16]
        return headers

    def _rate_headers_enabled(self) -> bool:
        return self.config.flavor is not Flavor.NEWAPI and self.state.limits.rpm is not None

    def _credits(self, quota: int) -> str:
        return f"{usd(quota, self.config.quota_per_unit):.6f}"

    # -- the endpoint -----------------------------------------------------------------------

    def endpoint(self, route: RelayRoute, full_path: str) -> Endpoint:
        async def handle(request: Request) -> Response:
            return await self._handle(request, route, full_path)

        return handle

    async def _handle(self, request: Request, route: RelayRoute, full_path: str) -> Response:
        rid = request_id_of(request)
        headers = self._flavor_headers(rid)
        try:
            key = self.authenticate(request, route)
        except RelayError as err:
            return error_response(err, "openai", rid, headers)
        if self.state.limits.rpm is not None:
            verdict = self.state.limits.rpm.hit(f"key:{key.token_id}")
            if self._rate_headers_enabled():
                headers.update(verdict.headers())
            if not verdict.allowed:
                limited = RelayError(
                    429,
                    "Rate limit exceeded: too many requests per minute for this key",
                    code="rate_limit_exceeded",
                    type_="rate_limit_error",
                    headers={"Retry-After": str(verdict.reset_seconds)},
                )
                return error_response(limited, "openai", rid, headers)
        raw = await request.body()
        self.state.record_request(request.url.path, raw)
        idem = request.headers.get("idempotency-key")
        replay_key = ""
        if idem and route.billable:
            digest = hashlib.sha256(raw).hexdigest()
            replay_key = f"{key.token_id}|{idem}|{full_path}|{digest}"
            early = await self._claim(replay_key, rid, headers)
            if early is not None:
                return early
        try:
            return await self._run(request, route, full_path, key, headers, replay_key)
        finally:
            # A stream keeps its claim until its last event has gone out (see `_stream`).
            if replay_key and not self._stream_owns(replay_key):
                self._release(replay_key)

    async def _claim(self, replay_key: str, rid: str, headers: dict[str, str]) -> Response | None:
        """Take the idempotency key, or answer from its stored result.

        A duplicate that arrives while the first request is still running waits for it and
        then gets the stored response; if the first takes longer than `idempotency_wait_s`,
        the duplicate gets 409. If the first ended without a stored result (a 5xx, a cut
        stream) the duplicate runs as a new request. One event loop serves every request, so
        the check and the claim below cannot interleave with another request's.
        """
        while True:
            stored = self.state.replays.get(replay_key)
            if stored is not None:
                return self._replay(stored)
            running = self.state.inflight.get(replay_key)
            if running is None:
                self.state.inflight[replay_key] = asyncio.Event()
                return None
            try:
                await asyncio.wait_for(running.wait(), self.config.idempotency_wait_s)
            except TimeoutError:
                conflict = RelayError(
                    409,
                    "A request with this Idempotency-Key is still being processed",
                    code="idempotency_key_in_use",
                    type_="invalid_request_error",
                )
                return error_response(conflict, "openai", rid, headers)

    def _release(self, replay_key: str) -> None:
        event = self.state.inflight.pop(replay_key, None)
        if event is not None:
            event.set()

    def _stream_owns(self, replay_key: str) -> bool:
        return replay_key in self._streaming

    async def _run(
        self,
        request: Request,
        route: RelayRoute,
        full_path: str,
        key: KeyContext,
        headers: dict[str, str],
        replay_key: str,
    ) -> Response:
        rid = request_id_of(request)
        remaining_before = self.state.remaining_quota(key)
        if self.config.flavor is Flavor.BLUENEXUS:
            headers["X-Credits-Remaining"] = self._credits(remaining_before)
        call = RelayCall(
            request=request,
            request_id=rid,
            style=route.style,
            key=key,
            config=self.config,
            base_url=self.state.base_url,
            _model_lookup=self.state.lookup_model,
        )
        call._pace = self._pace
        call._serve = self._serve
        if request.headers.get("x-tt-dry-run", "").lower() == "true":
            try:
                return await self._dry_run(call, route, request, headers)
            except RelayError as err:
                return error_response(err, route.style, rid, headers)
        started = time.monotonic()
        fault = fault_of(request)

        def make_sse(events: AsyncIterator[str]) -> Response:
            estimate = self._estimate(call)
            sse_headers = dict(headers)
            if self.config.flavor is Flavor.BLUENEXUS:
                sse_headers["X-Credits-Consumed"] = self._credits(estimate)
            gen = self._stream(
                events,
                call=call,
                route=route,
                full_path=full_path,
                fault=fault,
                started=started,
                replay_key=replay_key,
                headers=sse_headers,
            )
            if replay_key:
                self._streaming.add(replay_key)
            return StreamingResponse(
                gen,
                media_type="text/event-stream",
                headers={**sse_headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )

        call._sse = make_sse
        try:
            response = await route.handler(call)
        except RelayError as err:
            return error_response(err, route.style, rid, headers)
        if call.is_stream:
            return response
        quota = 0
        if route.billable and call.reported is not None and response.status_code < 400:
            quota = self.state.charge(
                key,
                call.reported,
                request_id=rid,
                path=full_path,
                is_stream=False,
                use_time=time.monotonic() - started,
                ip=self._ip(request),
            )
        if self.config.flavor is Flavor.BLUENEXUS:
            headers["X-Credits-Consumed"] = self._credits(quota)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        body = getattr(response, "body", None)
        if replay_key and isinstance(body, bytes) and response.status_code < 500:
            self.state.replays[replay_key] = Replay(
                response.status_code, list(response.headers.items()), body
            )
        return response

    async def _stream(
        self,
        events: AsyncIterator[str],
        *,
        call: RelayCall,
        route: RelayRoute,
        full_path: str,
        fault: Fault | None,
        started: float,
        replay_key: str,
        headers: dict[str, str],
    ) -> AsyncIterator[str]:
        sent = 0
        captured: list[str] = []
        finished = False
        how = "ended"
        frt_ms: int | None = None
        self.state.stream_opened()
        try:
            async for event in events:
                if fault is not None and sent >= fault.after:
                    if fault.kind == "drop":
                        raise DroppedConnectionError(f"fault: drop after {sent} events")
                    if fault.kind == "stall":
                        stalled, fault = fault, None
                        await stall(stalled)
                    elif fault.kind == "malformed":
                        fault = None
                        yield MALFORMED_EVENT
                    elif fault.kind == "stream_error":
                        yield stream_error_event(route.style, call.request_id)
                        return
                if frt_ms is None:
                    frt_ms = int((time.monotonic() - started) * 1000)
                captured.append(event)
                yield event
                sent += 1
            finished = True
            how = "finished"
        except (asyncio.CancelledError, GeneratorExit):
            # Starlette cancels the body when the client disconnects; an un-iterated
            # generator is closed (GeneratorExit) when the response is torn down.
            how = "client_closed"
            raise
        except DroppedConnectionError:
            how = "dropped"
            raise
        except Exception:
            how = "failed"
            raise
        finally:
            self.state.stream_ended(
                StreamOutcome(
                    call.request.url.path,
                    call.request_id,
                    how,
                    sent,
                    round(time.monotonic() - started, 3),
                )
            )
            report = call.reported
            if report is not None and route.billable:
                if report.frt_ms is None:
                    report.frt_ms = frt_ms
                self.state.charge(
                    call.key,
                    report,
                    request_id=call.request_id,
                    path=full_path,
                    is_stream=True,
                    use_time=time.monotonic() - started,
                    ip=self._ip(call.request),
                )
            if finished and replay_key:
                self.state.replays[replay_key] = Replay(
                    200,
                    [(k, v) for k, v in headers.items()]
                    + [("content-type", "text/event-stream; charset=utf-8")],
                    "".join(captured).encode(),
                )
            if replay_key:
                self._streaming.discard(replay_key)
                self._release(replay_key)

    def _replay(self, stored: Replay) -> Response:
        headers = {k: v for k, v in stored.headers if k.lower() != "content-length"}
        headers["Idempotent-Replayed"] = "true"
        return Response(stored.body, status_code=stored.status, headers=headers)

    # -- dry run ----------------------------------------------------------------------------

    def _estimate(self, call: RelayCall) -> int:
        body: dict[str, Any] = call._body if isinstance(call._body, dict) else {}
        name = body.get("model")
        model = MODELS.get(name) if isinstance(name, str) else None
        if model is None:
            return 0
        prompt = estimate_prompt_tokens(body.get("messages", body))
        completion = estimate_completion_tokens(body, model)
        n = body.get("n")
        return quota_for(
            model,
            prompt,
            completion,
            0,
            n if isinstance(n, int) else 1,
            call.key.group_ratio,
            self.config.quota_per_unit,
        )

    async def _dry_run(
        self, call: RelayCall, route: RelayRoute, request: Request, headers: dict[str, str]
    ) -> Response:
        body: dict[str, Any] = {}
        content_type = request.headers.get("content-type", "json")
        if "json" in content_type:
            body = await call.json()
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            body = await form_fields(request)
        name = body.get("model") or request.path_params.get("model", "")
        if isinstance(name, str) and ":" in name:
            name = name.split(":", 1)[0]
        if not isinstance(name, str) or not name:
            raise RelayError(400, "model is required", code="invalid_request")
        model = call.model(name)
        prompt = estimate_prompt_tokens(body.get("messages", body.get("input", body)))
        completion = estimate_completion_tokens(body, model)
        n = body.get("n")
        quota = quota_for(
            model,
            prompt,
            completion,
            0,
            n if isinstance(n, int) else 1,
            call.key.group_ratio,
            self.config.quota_per_unit,
        )
        if self.config.flavor is Flavor.BLUENEXUS:
            headers["X-Credits-Consumed"] = self._credits(0)
        return JSONResponse(
            {
                "object": "dry_run",
                "dry_run": True,
                "model": model.name,
                "path": route.path,
                "quota_type": model.quota_type,
                "estimated_prompt_tokens": prompt,
                "estimated_completion_tokens": completion,
                "estimated_quota": quota,
                "estimated_credits": round(usd(quota, self.config.quota_per_unit), 6),
                "estimated_usd": round(usd(quota, self.config.quota_per_unit), 6),
                "group": call.key.group,
                "group_ratio": call.key.group_ratio,
                "remaining_quota": self.state.remaining_quota(call.key),
                "charged": 0,
            },
            headers=headers,
        )

    # -- services handed to handlers --------------------------------------------------------

    async def _pace(self, n_tokens: int) -> None:
        tps = self.config.tokens_per_second
        if tps > 0 and n_tokens > 0:
            await asyncio.sleep(n_tokens / tps)

    def _serve(self, data: bytes, media_type: str, suffix: str) -> str:
        blob_id = hashlib.sha256(data).hexdigest()[:24]
        self.state.blobs.put(blob_id + suffix, data, media_type)
        return f"{self.state.base_url}/emulator/files/{blob_id}{suffix}"

    @staticmethod
    def _ip(request: Request) -> str:
        return request.client.host if request.client else ""
