"""Relay routes for async jobs: POST /v1/tasks, GET /v1/tasks/{id}, GET /v1/tasks/{id}/events,
POST /v1/tasks/{id}/cancel.

A task's state is a pure function of the time since it was submitted (queued for the first part of
its duration, then in progress with a rising percentage, then finished), so no background worker
is needed and any number of servers can run in one process. The result image is drawn the first
time someone sees the task finished. Tasks live in memory on the server's Starlette app state and
belong to the user whose key submitted them; only the submit is billed.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from bluesdesk.emulator.media import images
from bluesdesk.emulator.relay import RelayCall, RelayError, RelayRoute
from bluesdesk.emulator.routes_images import bad_request, check_prompt, parse_size
from bluesdesk.emulator.tokens import count_tokens

DEFAULT_DURATION_S = 2.0
MAX_DURATION_S = 600.0
MAX_WAIT_S = 30.0
QUEUED_SHARE = 0.15  # the first 15 % of a task's duration it spends queued
KINDS = frozenset({"image"})
MAX_TASKS = 2000  # per server; the oldest are forgotten first
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


@dataclass
class Task:
    id: str
    user_id: int
    model: str
    kind: str
    prompt: str
    size: tuple[int, int]
    duration_s: float
    created_at: float  # wall clock, for display
    started: float  # monotonic, for progress
    will_fail: bool
    cancelled_after: float | None = None  # seconds after start when cancelled
    result_urls: list[str] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def elapsed(self, now: float | None = None) -> float:
        if self.cancelled_after is not None:
            return self.cancelled_after
        return (time.monotonic() if now is None else now) - self.started

    @property
    def queued_for(self) -> float:
        return self.duration_s * QUEUED_SHARE

    def status(self, elapsed: float) -> tuple[str, int]:
        """(status, progress 0-100) at `elapsed` seconds after submission."""
        if self.cancelled_after is not None:
            return "cancelled", self._progress(elapsed)
        if elapsed >= self.duration_s:
            return ("failed", self._progress(elapsed)) if self.will_fail else ("succeeded", 100)
        if elapsed < self.queued_for:
            return "queued", 0
        return "in_progress", self._progress(elapsed)

    def _progress(self, elapsed: float) -> int:
        if elapsed < self.queued_for:
            return 0
        working = max(self.duration_s - self.queued_for, 1e-9)
        share = (elapsed - self.queued_for) / working
        # Failures stop short of the end, like a real job dying in its last step.
        ceiling = 95 if self.will_fail else 99
        return max(1, min(ceiling, int(share * 100)))


def store(call: RelayCall) -> OrderedDict[str, Task]:
    state = call.request.app.state
    tasks = getattr(state, "media_tasks", None)
    if not isinstance(tasks, OrderedDict):
        tasks = OrderedDict()
        state.media_tasks = tasks
    return tasks


def find(call: RelayCall) -> Task:
    task_id = str(call.request.path_params.get("task_id", ""))
    task = store(call).get(task_id)
    # Someone else's task is as invisible as a missing one.
    if task is None or task.user_id != call.key.user_id:
        raise RelayError(404, f"Task '{task_id}' not found.", code="task_not_found")
    return task


def _duration(raw: object) -> float:
    if raw is None:
        return DEFAULT_DURATION_S
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise bad_request(f"Invalid 'duration_s': {raw!r}. It must be a number of seconds.")
    if not 0 <= raw <= MAX_DURATION_S:
        raise bad_request(
            f"Invalid 'duration_s': {raw}. It must be between 0 and {MAX_DURATION_S}."
        )
    return float(raw)


async def submit(call: RelayCall) -> Response:
    body = await call.json()
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise bad_request("Missing required parameter: 'model'.")
    model = call.model(name)
    if not (model.has("task") or model.has("image")):
        raise bad_request(
            f"The model '{name}' does not run async tasks.", code="model_not_supported"
        )
    kind = body.get("kind") or "image"
    if kind not in KINDS:
        raise bad_request(f"Invalid 'kind': {kind!r}. Supported kinds are: {', '.join(KINDS)}.")
    prompt = check_prompt(body.get("prompt"))
    size = parse_size(body.get("size"))
    task = Task(
        id="task_" + secrets.token_hex(12),
        user_id=call.key.user_id,
        model=model.name,
        kind=str(kind),
        prompt=prompt,
        size=size,
        duration_s=_duration(body.get("duration_s")),
        created_at=time.time(),
        started=time.monotonic(),
        will_fail="fail" in prompt.lower(),
    )
    tasks = store(call)
    tasks[task.id] = task
    while len(tasks) > MAX_TASKS:
        tasks.popitem(last=False)
    if model.quota_type == 1:
        call.usage(model.name, requests=1)
    else:
        call.usage(model.name, prompt_tokens=count_tokens(prompt))
    return JSONResponse(await render(call, task), status_code=200)


async def render(call: RelayCall, task: Task) -> dict[str, Any]:
    elapsed = task.elapsed()
    status, progress = task.status(elapsed)
    out: dict[str, Any] = {
        "id": task.id,
        "object": "task",
        "model": task.model,
        "kind": task.kind,
        "prompt": task.prompt,
        "size": f"{task.size[0]}x{task.size[1]}",
        "status": status,
        "progress": progress,
        "created_at": int(task.created_at),
        "started_at": None,
        "finished_at": None,
        "result": None,
        "error": None,
    }
    if elapsed >= task.queued_for:
        out["started_at"] = int(task.created_at + min(elapsed, task.queued_for))
    if status in TERMINAL:
        out["finished_at"] = int(task.created_at + min(elapsed, task.duration_s))
    if status == "succeeded":
        urls = await result_urls(call, task)
        out["result"] = {"url": urls[0], "images": [{"url": u} for u in urls]}
    elif status == "failed":
        out["error"] = {
            "code": "generation_failed",
            "message": "The task failed while generating its result. Try another prompt.",
        }
    return out


async def result_urls(call: RelayCall, task: Task) -> list[str]:
    """Draw and serve the result once, however many pollers arrive together."""
    async with task.lock:
        if not task.result_urls:
            data = await run_in_threadpool(images.generate, task.prompt, task.size)
            task.result_urls.append(call.serve(data, "image/png", ".png"))
        return list(task.result_urls)


def _wait_seconds(call: RelayCall) -> float:
    raw = call.request.query_params.get("wait", "")
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError as exc:
        raise bad_request(f"Invalid 'wait': {raw!r}. It must be a number of seconds.") from exc
    return max(0.0, min(value, MAX_WAIT_S))


async def get_task(call: RelayCall) -> Response:
    """The task's state; `?wait=S` holds the answer up to S seconds until the task has finished."""
    task = find(call)
    wait = _wait_seconds(call)
    deadline = time.monotonic() + wait
    while wait:
        status, _ = task.status(task.elapsed())
        now = time.monotonic()
        if status in TERMINAL or now >= deadline:
            break
        finish_at = task.started + task.duration_s
        # Server-side long-poll: the client waits on the response, not on a sleep of its own.
        await asyncio.sleep(max(0.005, min(deadline, finish_at, now + 0.25) - now))
    return JSONResponse(await render(call, task))


def events(task: Task) -> list[dict[str, Any]]:
    """The task's history so far: queued, in_progress, progress quarters, then the end."""
    elapsed = task.elapsed()
    timeline: list[tuple[float, str, str]] = [(0.0, "task.queued", "queued")]
    if task.duration_s > 0:
        timeline.append((task.queued_for, "task.in_progress", "in_progress"))
        for quarter in (0.25, 0.5, 0.75):
            at = task.queued_for + quarter * (task.duration_s - task.queued_for)
            timeline.append((at, "task.progress", "in_progress"))
    if task.cancelled_after is None:
        final = "failed" if task.will_fail else "succeeded"
        timeline.append((task.duration_s, f"task.{final}", final))
    out: list[dict[str, Any]] = []
    for at, type_, status in timeline:
        if at > elapsed:
            break
        out.append(
            {
                "id": f"{task.id}_evt_{len(out)}",
                "object": "task.event",
                "type": type_,
                "status": status,
                "progress": 100 if status == "succeeded" else task.status(at)[1],
                "created_at": round(task.created_at + at, 3),
            }
        )
    if task.cancelled_after is not None:
        out.append(
            {
                "id": f"{task.id}_evt_{len(out)}",
                "object": "task.event",
                "type": "task.cancelled",
                "status": "cancelled",
                "progress": task.status(elapsed)[1],
                "created_at": round(task.created_at + elapsed, 3),
            }
        )
    return out


async def get_events(call: RelayCall) -> Response:
    task = find(call)
    return JSONResponse({"object": "list", "task_id": task.id, "data": events(task)})


async def cancel(call: RelayCall) -> Response:
    task = find(call)
    elapsed = task.elapsed()
    status, _ = task.status(elapsed)
    if status == "cancelled":
        return JSONResponse(await render(call, task))  # cancelling twice is harmless
    if status in TERMINAL:
        raise RelayError(
            409, f"Task '{task.id}' has already {status} and cannot be cancelled.",
            code="task_not_cancellable", type_="invalid_request_error",
        )  # fmt: skip
    task.cancelled_after = elapsed
    return JSONResponse(await render(call, task))


ROUTES: list[RelayRoute] = [
    RelayRoute("/v1/tasks", submit),
    RelayRoute("/v1/tasks/{task_id}", get_task, methods=("GET",), billable=False),
    RelayRoute("/v1/tasks/{task_id}/events", get_events, methods=("GET",), billable=False),
    RelayRoute("/v1/tasks/{task_id}/cancel", cancel, billable=False),
]
