"""Relay routes for async jobs: POST /v1/tasks, GET /v1/tasks/{id}, GET /v1/tasks/{id}/events,
POST /v1/tasks/{id}/cancel.

A task's state is a pure function of the time since it was submitted (queued for the first part of
its duration, then in progress with a rising percentage, then finished), so no background worker
is needed and any number of servers can run in one process. Tasks are rows in the emulator's
database (so they survive a restart when `data_dir` is set) and belong to the user whose key
submitted them; only the submit is billed. The result (a PNG for `kind: "image"`, a short animated
GIF for `kind: "video"`) is drawn the first time someone sees the task finished, and drawn again
if its served file was evicted. A task that fails is refunded (a type-6 log, as new-api does) the
first time anyone observes the failure.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from bluesdesk.emulator.media import images
from bluesdesk.emulator.relay import RelayCall, RelayError, RelayRoute, UsageReport
from bluesdesk.emulator.routes_images import bad_request, check_prompt, parse_size
from bluesdesk.emulator.state import EmulatorState
from bluesdesk.emulator.tokens import count_tokens

DEFAULT_DURATION_S = 2.0
MAX_DURATION_S = 600.0
MAX_WAIT_S = 30.0
QUEUED_SHARE = 0.15  # the first 15 % of a task's duration it spends queued
KINDS = ("image", "video")
MAX_TASKS = 2000  # per server; the oldest are forgotten first
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


@dataclass
class Task:
    id: str
    user_id: int
    token_id: int
    model: str
    kind: str
    prompt: str
    size: tuple[int, int]
    duration_s: float
    created_at: float  # wall clock: progress is measured from it, so it survives restarts
    will_fail: bool
    quota: int = 0  # what the submit cost, refunded if the task fails
    refunded: bool = False
    cancelled_after: float | None = None  # seconds after start when cancelled
    result_names: tuple[str, ...] = ()  # served file names, e.g. ("ab12….png",)

    def elapsed(self, now: float | None = None) -> float:
        if self.cancelled_after is not None:
            return self.cancelled_after
        return max(0.0, (time.time() if now is None else now) - self.created_at)

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


class TaskBook:
    """Tasks in the `tasks` table of the emulator's database, plus per-task draw locks."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.store = state.store
        self._locks: dict[str, asyncio.Lock] = {}

    def add(self, task: Task) -> None:
        self.store.insert(
            "tasks",
            {
                "id": task.id,
                "user_id": task.user_id,
                "token_id": task.token_id,
                "model": task.model,
                "kind": task.kind,
                "prompt": task.prompt,
                "width": task.size[0],
                "height": task.size[1],
                "duration_s": task.duration_s,
                "created_at": task.created_at,
                "will_fail": int(task.will_fail),
                "quota": task.quota,
            },
        )
        excess = int(self.store.scalar("SELECT COUNT(*) FROM tasks")) - MAX_TASKS
        if excess > 0:
            self.store.execute(
                "DELETE FROM tasks WHERE id IN"
                " (SELECT id FROM tasks ORDER BY created_at, rowid LIMIT ?)",
                (excess,),
            )

    def get(self, task_id: str) -> Task | None:
        row = self.store.one("SELECT * FROM tasks WHERE id = ?", (task_id,))
        if row is None:
            return None
        return Task(
            id=row["id"],
            user_id=row["user_id"],
            token_id=row["token_id"],
            model=row["model"],
            kind=row["kind"],
            prompt=row["prompt"],
            size=(row["width"], row["height"]),
            duration_s=row["duration_s"],
            created_at=row["created_at"],
            will_fail=bool(row["will_fail"]),
            quota=row["quota"],
            refunded=bool(row["refunded"]),
            cancelled_after=row["cancelled_after"],
            result_names=tuple(n for n in row["result_names"].split(",") if n),
        )

    def cancel(self, task: Task, elapsed: float) -> None:
        task.cancelled_after = elapsed
        self.store.execute("UPDATE tasks SET cancelled_after = ? WHERE id = ?", (elapsed, task.id))

    def set_results(self, task: Task, names: tuple[str, ...]) -> None:
        task.result_names = names
        self.store.execute(
            "UPDATE tasks SET result_names = ? WHERE id = ?", (",".join(names), task.id)
        )

    def refund_once(self, task: Task) -> None:
        """Refund a failed task's submit; the conditional update makes it happen only once."""
        if task.refunded or task.quota <= 0:
            return
        claimed = self.store.execute(
            "UPDATE tasks SET refunded = 1 WHERE id = ? AND refunded = 0", (task.id,)
        )
        task.refunded = True
        if claimed:
            self.state.refund(
                user_id=task.user_id,
                token_id=task.token_id,
                quota=task.quota,
                model_name=task.model,
                content=f"Async task {task.id} failed; its cost was refunded",
            )

    def lock(self, task_id: str) -> asyncio.Lock:
        if task_id not in self._locks:
            if len(self._locks) > MAX_TASKS:
                self._locks.clear()  # only ever held briefly; dropping idle ones is safe
            self._locks[task_id] = asyncio.Lock()
        return self._locks[task_id]


def book(call: RelayCall) -> TaskBook:
    app_state = call.request.app.state
    found = getattr(app_state, "task_book", None)
    if not isinstance(found, TaskBook):
        found = TaskBook(app_state.emulator)
        app_state.task_book = found
    return found


def find(call: RelayCall) -> Task:
    task_id = str(call.request.path_params.get("task_id", ""))
    task = book(call).get(task_id)
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
    is_video_model = "video" in model.tags.split(",")
    kind = body.get("kind") or ("video" if is_video_model else "image")
    if kind not in KINDS:
        raise bad_request(f"Invalid 'kind': {kind!r}. Supported kinds are: {', '.join(KINDS)}.")
    if kind == "video" and not model.has("task"):
        raise bad_request(f"The model '{name}' does not make videos.", code="model_not_supported")
    prompt = check_prompt(body.get("prompt"))
    size = parse_size(body.get("size"))
    if model.quota_type == 1:
        report = UsageReport(model.name, requests=1)
    else:
        report = UsageReport(model.name, prompt_tokens=count_tokens(prompt))
    emulator: EmulatorState = call.request.app.state.emulator
    task = Task(
        id="task_" + secrets.token_hex(12),
        user_id=call.key.user_id,
        token_id=call.key.token_id,
        model=model.name,
        kind=str(kind),
        prompt=prompt,
        size=size,
        duration_s=_duration(body.get("duration_s")),
        created_at=time.time(),
        will_fail="fail" in prompt.lower(),
        # The same price the platform charges for this report once the handler returns.
        quota=emulator.price(report, call.key)[1],
    )
    book(call).add(task)
    call.usage(
        report.model,
        report.prompt_tokens,
        requests=report.requests,
    )
    # No refund inside the submit: the platform has not charged it yet.
    return JSONResponse(await render(call, task, refund=False), status_code=200)


async def render(call: RelayCall, task: Task, *, refund: bool = True) -> dict[str, Any]:
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
        if task.kind == "video":
            width, height = images.video_size(task.size)
            out["result"] = {
                "url": urls[0],
                "video": {
                    "url": urls[0],
                    "format": "gif",
                    "width": width,
                    "height": height,
                    "frames": images.VIDEO_FRAMES,
                    "duration_ms": images.VIDEO_FRAMES * images.VIDEO_FRAME_MS,
                },
            }
        else:
            out["result"] = {"url": urls[0], "images": [{"url": u} for u in urls]}
    elif status == "failed":
        if refund:
            book(call).refund_once(task)
        out["error"] = {
            "code": "generation_failed",
            "message": "The task failed while generating its result. Try another prompt.",
        }
    return out


async def result_urls(call: RelayCall, task: Task) -> list[str]:
    """Draw and serve the result once, however many pollers arrive together; draw it again if
    the served file was evicted (see `blobs.py`) or the server restarted."""
    async with book(call).lock(task.id):
        fresh = book(call).get(task.id)
        names = fresh.result_names if fresh is not None else task.result_names
        blobs = call.request.app.state.emulator.blobs
        if not names or any(n not in blobs for n in names):
            if task.kind == "video":
                data = await run_in_threadpool(images.animate, task.prompt, task.size)
                url = call.serve(data, "image/gif", ".gif")
            else:
                data = await run_in_threadpool(images.generate, task.prompt, task.size)
                url = call.serve(data, "image/png", ".png")
            names = (url.rsplit("/", 1)[-1],)
            book(call).set_results(task, names)
        base = f"{call.base_url}/emulator/files/"
        return [base + n for n in names]


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
        task = book(call).get(task.id) or task  # a cancel may have landed meanwhile
        status, _ = task.status(task.elapsed())
        now = time.monotonic()
        if status in TERMINAL or now >= deadline:
            break
        finish_at = now + max(0.0, task.duration_s - task.elapsed())
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
    book(call).cancel(task, elapsed)
    return JSONResponse(await render(call, task))


ROUTES: list[RelayRoute] = [
    RelayRoute("/v1/tasks", submit),
    RelayRoute("/v1/tasks/{task_id}", get_task, methods=("GET",), billable=False),
    RelayRoute("/v1/tasks/{task_id}/events", get_events, methods=("GET",), billable=False),
    RelayRoute("/v1/tasks/{task_id}/cancel", cancel, billable=False),
]
