"""The emulator's live state: the database plus what only lives while the server runs.

One `EmulatorState` per server. The database (users, keys, logs, channels) is in `store.py`;
here are faults, limits, request counters, served blobs, idempotency replays and the session
signing secret, and the gateway rules every route shares (groups, model access, charging).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from bluesdesk.emulator.billing import other_json, quota_for
from bluesdesk.emulator.blobs import BlobStore
from bluesdesk.emulator.catalog import GROUP_RATIOS, MODELS, CatalogModel
from bluesdesk.emulator.config import EmulatorConfig, Flavor
from bluesdesk.emulator.faults import FaultBoard
from bluesdesk.emulator.ratelimit import Limits
from bluesdesk.emulator.relay import KeyContext, RelayError, UsageReport
from bluesdesk.emulator.seed import seed
from bluesdesk.emulator.store import Row, Store
from bluesdesk.emulator.transcripts import StoredTranscripts

VERSION = "v0.9.6-emulator"
# Relay request bodies kept per path for tests to inspect (GET /emulator/requests?path=).
RECORDED_PER_PATH = 50
RECORDED_MAX_BYTES = 1_000_000  # a bigger body is noted by its size only
STREAMS_KEPT = 200  # how streams ended (GET /emulator/streams), the newest kept
GROUP_DESC = {"default": "Default group", "vip": "VIP group", "auto": "Auto (best available)"}
SYSTEM_NAMES = {
    Flavor.BLUESMINDS: "BluesMinds",
    Flavor.NEWAPI: "New API",
    Flavor.MINDPROXY: "MindProxy",
    Flavor.BLUENEXUS: "BlueNexus",
}


def new_request_id() -> str:
    """new-api style: a timestamp plus random characters, e.g. 20261124153012123456ab12cd34."""
    now = time.time()
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(now))
    return f"{stamp}{int(now * 1e6) % 1_000_000:06d}{secrets.token_hex(4)}"


def mask_key(key: str) -> str:
    """Masked key as new-api shows it since 2026-03: first 4 + ********** + last 4, no sk-."""
    return key[:4] + "**********" + key[-4:]


@dataclass(slots=True)
class Replay:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class StreamOutcome:
    """How one event stream ended, as the server saw it.

    `how`: "finished" (the last event went out), "client_closed" (the client hung up or
    stopped reading before the end), "dropped" (a `drop` fault cut it), "ended" (an error
    event ended it early), or "failed" (the handler raised).
    """

    path: str
    request_id: str
    how: str
    events: int
    seconds: float


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(config.data_dir)
        seed(self.store, history_days=config.seed_history_days)
        secret = self.store.meta("session_secret")
        if secret is None:
            secret = secrets.token_hex(32)
            self.store.set_meta("session_secret", secret)
        self._secret = secret.encode()
        self.faults = FaultBoard()
        self.limits = Limits(config.effective_rpm, config.rpm_window_s)
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._recorded: dict[str, deque[Any]] = {}
        self._streams: deque[StreamOutcome] = deque(maxlen=STREAMS_KEPT)
        self._open_streams = 0
        self.blobs = BlobStore(config.blob_max_bytes, config.blob_max_age_s)
        self.replays: dict[str, Replay] = {}
        # Idempotency keys whose first request is still running; duplicates wait on the event.
        self.inflight: dict[str, asyncio.Event] = {}
        self.transcripts = StoredTranscripts(self.store)
        self.base_url = ""
        self.start_time = int(time.time())

    # -- counters -------------------------------------------------------------------------

    def count(self, path: str) -> None:
        with self._counts_lock:
            self._counts[path] += 1

    def request_count(self, path: str) -> int:
        with self._counts_lock:
            return self._counts[path]

    def counts(self) -> dict[str, int]:
        with self._counts_lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._counts_lock:
            self._counts.clear()
            self._recorded.clear()
            self._streams.clear()

    def record_request(self, path: str, raw: bytes) -> None:
        """Keep a relay request's body (parsed JSON, else text) among the last of its path."""
        body: Any
        if len(raw) > RECORDED_MAX_BYTES:
            body = {"omitted_bytes": len(raw)}
        else:
            text = raw.decode("utf-8", "replace")
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = text
        with self._counts_lock:
            kept = self._recorded.setdefault(path, deque(maxlen=RECORDED_PER_PATH))
            kept.append(body)

    def recorded_requests(self, path: str) -> list[Any]:
        """The recorded bodies sent to exactly `path`, oldest first."""
        with self._counts_lock:
            return list(self._recorded.get(path, ()))

    def stream_opened(self) -> None:
        with self._counts_lock:
            self._open_streams += 1

    def stream_ended(self, outcome: StreamOutcome) -> None:
        with self._counts_lock:
            self._open_streams -= 1
            self._streams.append(outcome)

    @property
    def open_streams(self) -> int:
        """Event streams the server is sending right now."""
        with self._counts_lock:
            return self._open_streams

    def stream_outcomes(self, path: str = "") -> list[StreamOutcome]:
        """How the newest event streams ended (under `path` when given), oldest first."""
        with self._counts_lock:
            return [o for o in self._streams if o.path.startswith(path)]

    # -- sessions -------------------------------------------------------------------------

    def sign(self, payload: dict[str, Any]) -> str:
        raw = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
        mac = hmac.new(self._secret, raw, hashlib.sha256).hexdigest()
        return f"{raw.decode()}.{mac}"

    def unsign(self, cookie: str) -> dict[str, Any] | None:
        raw, _, mac = cookie.rpartition(".")
        if not raw:
            return None
        expected = hmac.new(self._secret, raw.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, expected):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode()))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    # -- users and groups -----------------------------------------------------------------

    def user(self, user_id: int) -> Row | None:
        return self.store.one("SELECT * FROM users WHERE id = ?", (user_id,))

    def user_by_name(self, name: str) -> Row | None:
        return self.store.one("SELECT * FROM users WHERE username = ? OR email = ?", (name, name))

    @staticmethod
    def usable_groups(user_group: str | None) -> list[str]:
        """Groups a user may put keys in: everyone has default; vip users also vip."""
        if user_group == "vip":
            return ["default", "vip"]
        return ["default"]

    def key_context(self, token: Row, user: Row) -> KeyContext:
        group = token["grp"] or user["grp"]
        if group == "auto":
            group = user["grp"]
        limits = None
        if token["model_limits_enabled"]:
            limits = frozenset(m for m in token["model_limits"].split(",") if m)
        return KeyContext(
            token_id=token["id"],
            token_name=token["name"],
            user_id=user["id"],
            username=user["username"],
            group=group,
            group_ratio=GROUP_RATIOS.get(group, 1.0),
            model_limits=limits,
        )

    def lookup_model(self, name: str, key: KeyContext) -> CatalogModel:
        """The flavor's answer for a model name: the model, or a RelayError (404/503/403)."""
        model = MODELS.get(name)
        if model is not None and model.has("embedding") and self.config.flavor is Flavor.BLUESMINDS:
            raise RelayError(404, "Embedding endpoints are not available", code="model_not_found")
        if model is None or key.group not in model.enable_groups:
            if self.config.flavor is Flavor.BLUESMINDS:
                raise RelayError(
                    404,
                    f"The model `{name}` does not exist or is not available to you",
                    code="model_not_found",
                    type_="invalid_request_error",
                )
            raise RelayError(
                503,
                f"No available channel for model {name} under group {key.group}",
                code="model_not_found",
            )
        if key.model_limits is not None and name not in key.model_limits:
            raise RelayError(403, f"This token has no access to model {name}", code="access_denied")
        return model

    # -- billing --------------------------------------------------------------------------

    def price(self, report: UsageReport, key: KeyContext) -> tuple[CatalogModel | None, int]:
        model = MODELS.get(report.model)
        if model is None:
            return None, 0
        return model, quota_for(
            model,
            report.prompt_tokens,
            report.completion_tokens,
            report.cached_tokens,
            report.requests,
            key.group_ratio,
            self.config.quota_per_unit,
        )

    def charge(
        self,
        key: KeyContext,
        report: UsageReport,
        *,
        request_id: str,
        path: str,
        is_stream: bool,
        use_time: float,
        ip: str,
    ) -> int:
        """Deduct a finished call from key and user, count it, and write its consume log."""
        model, quota = self.price(report, key)
        if model is None:
            return 0
        token = self.store.one("SELECT * FROM tokens WHERE id = ?", (key.token_id,))
        now = int(time.time())
        if token is not None:
            remain = (
                token["remain_quota"]
                if token["unlimited_quota"]
                else (token["remain_quota"] - quota)
            )
            self.store.execute(
                "UPDATE tokens SET remain_quota = ?, used_quota = used_quota + ?,"
                " accessed_time = ? WHERE id = ?",
                (remain, quota, now, key.token_id),
            )
        self.store.execute(
            "UPDATE users SET quota = quota - ?, used_quota = used_quota + ?,"
            " request_count = request_count + 1 WHERE id = ?",
            (quota, quota, key.user_id),
        )
        self.store.insert(
            "logs",
            {
                "user_id": key.user_id,
                "created_at": now,
                "type": 2,
                "content": "",
                "username": key.username,
                "token_name": key.token_name,
                "model_name": model.name,
                "quota": quota,
                "prompt_tokens": report.prompt_tokens,
                "completion_tokens": report.completion_tokens,
                "use_time": max(0, round(use_time)),
                "is_stream": int(is_stream),
                "channel": 1,
                "token_id": key.token_id,
                "grp": key.group,
                "ip": ip,
                "request_id": request_id,
                "other": other_json(
                    model,
                    key.group_ratio,
                    cached_tokens=report.cached_tokens,
                    frt_ms=report.frt_ms,
                    request_path=path,
                ),
            },
        )
        return quota

    def refund(
        self, *, user_id: int, token_id: int, quota: int, model_name: str, content: str
    ) -> None:
        """Give back `quota` to key and user and write a refund log (type 6), as new-api does
        for a failed async task."""
        if quota <= 0:
            return
        token = self.store.one("SELECT * FROM tokens WHERE id = ?", (token_id,))
        if token is not None:
            remain = token["remain_quota"] + (0 if token["unlimited_quota"] else quota)
            self.store.execute(
                "UPDATE tokens SET remain_quota = ?, used_quota = used_quota - ? WHERE id = ?",
                (remain, quota, token_id),
            )
        self.store.execute(
            "UPDATE users SET quota = quota + ?, used_quota = used_quota - ? WHERE id = ?",
            (quota, quota, user_id),
        )
        user = self.user(user_id)
        self.store.insert(
            "logs",
            {
                "user_id": user_id,
                "created_at": int(time.time()),
                "type": 6,
                "content": content,
                "username": user["username"] if user else "",
                "token_name": token["name"] if token else "",
                "model_name": model_name,
                "quota": quota,
                "token_id": token_id,
                "grp": user["grp"] if user else "",
            },
        )

    def remaining_quota(self, key: KeyContext) -> int:
        """What the caller can still spend: the key's remain_quota, capped by the user's quota."""
        user = self.user(key.user_id)
        token = self.store.one("SELECT * FROM tokens WHERE id = ?", (key.token_id,))
        user_quota = int(user["quota"]) if user else 0
        if token is None or token["unlimited_quota"]:
            return user_quota
        return min(user_quota, int(token["remain_quota"]))

    def close(self) -> None:
        self.store.close()
