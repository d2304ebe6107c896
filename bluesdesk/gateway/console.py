"""The new-api console: /api/status, /api/pricing, /api/user/models and /self/groups for the
catalog (reference §2, §8), and for the Account pane the login (with 2FA), access tokens, the
user's own record, API tokens and usage logs (reference §3–§6), in new and legacy shapes.

A password login relies on the client's cookie jar (httpx keeps `session`, which also carries
the pending 2FA state); everything after it should use the access token from `access_token()`.

Calls go through the profile's `GatewayClient` to the management root (`management_url`, else
the origin in front of /v1). The API key is never sent there: console routes do not take it,
and the console may live on another host. A `success: false` answer arrives as
`ConsoleRejected` from the client (except a failed channel test, which carries data: see
`ConsoleExtras.test_channel`); a body of the wrong shape as `BadResponse`.
"""

from __future__ import annotations

import json as jsonlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bluesdesk.core.models import GatewayProfile
from bluesdesk.core.redact import register_secret
from bluesdesk.errors import BadResponse, ConsoleRejected
from bluesdesk.gateway.errors import ok_body_error
from bluesdesk.gateway.http import GatewayClient

T = TypeVar("T")
MAX_PAGE_SIZE = 100  # new-api caps page_size here
TOKEN_NAME_MAX = 50
STATUS_ENABLED, STATUS_DISABLED = 1, 2


@dataclass(frozen=True, slots=True)
class ConsoleAuth:
    """A console login: a session or system access token and, where needed, the user id.

    new-api wants `New-Api-User: <id>` beside an access token; BluesMinds also accepts its
    login's session token on its own. `bearer` adds the "Bearer " prefix.
    """

    token: str
    user_id: int | None = None
    bearer: bool = False

    def __post_init__(self) -> None:
        register_secret(self.token)

    def headers(self) -> dict[str, str]:
        found = {"Authorization": f"Bearer {self.token}" if self.bearer else self.token}
        if self.user_id is not None:
            found["New-Api-User"] = str(self.user_id)
        return found

    def __repr__(self) -> str:  # never show the token
        return f"ConsoleAuth(user_id={self.user_id!r})"


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # NaN, Infinity and 1e400 are valid JSON to Python's parser but no count or id.
        return int(value) if math.isfinite(value) else default
    return default


def _seconds(value: Any) -> float:
    """A duration in seconds; 0 for anything that is not a finite, non-negative number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    try:
        seconds = float(value)
    except OverflowError:  # a 400-digit integer is valid JSON
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What POST /api/user/login (or /login/2fa) said: a user, or "send the 2FA code"."""

    require_2fa: bool = False
    user_id: int | None = None
    username: str = ""
    display_name: str = ""
    role: int = 0
    group: str = ""
    session_token: str = field(default="", repr=False)  # BluesMinds' `data.token`

    @classmethod
    def from_data(cls, data: Any) -> LoginResult | None:
        if not isinstance(data, Mapping):
            return None
        if data.get("require_2fa") is True:
            return cls(require_2fa=True)
        user_id = data.get("id")
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            return None
        token = _str(data.get("token"))
        if token:
            register_secret(token)
        return cls(
            user_id=user_id,
            username=_str(data.get("username")),
            display_name=_str(data.get("display_name")),
            role=_int(data.get("role")),
            group=_str(data.get("group")),
            session_token=token,
        )


@dataclass(frozen=True, slots=True)
class UserInfo:
    """GET /api/user/self: `quota` is the remaining balance, `used_quota` what was spent."""

    id: int
    username: str
    display_name: str = ""
    role: int = 1
    status: int = 1
    group: str = ""
    email: str = ""
    quota: int = 0
    used_quota: int = 0
    request_count: int = 0

    @property
    def role_name(self) -> str:
        if self.role >= 100:
            return "root"
        if self.role >= 10:
            return "admin"
        return "user"

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> UserInfo:
        return cls(
            id=_int(data.get("id")),
            username=_str(data.get("username")),
            display_name=_str(data.get("display_name")),
            role=_int(data.get("role"), 1),
            status=_int(data.get("status"), 1),
            group=_str(data.get("group")),
            email=_str(data.get("email")),
            quota=_int(data.get("quota")),
            used_quota=_int(data.get("used_quota")),
            request_count=_int(data.get("request_count")),
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; `page` is 1-based here whatever the server counts from.

    `total` is None for legacy bare arrays (the server does not say)."""

    items: list[T]
    page: int
    page_size: int
    total: int | None

    @property
    def has_next(self) -> bool:
        if self.total is None:
            return len(self.items) >= self.page_size
        return self.page * self.page_size < self.total


@dataclass(frozen=True, slots=True)
class ApiToken:
    """One API key as /api/token/ lists it (reference §5); `key` is masked on new servers."""

    id: int
    name: str
    status: int
    key: str = field(default="", repr=False)
    remain_quota: int = 0
    used_quota: int = 0
    unlimited_quota: bool = False
    created_time: int = 0
    accessed_time: int = 0
    expired_time: int = -1
    model_limits_enabled: bool = False
    model_limits: tuple[str, ...] = ()
    allow_ips: tuple[str, ...] = ()
    group: str = ""
    cross_group_retry: bool = False

    @property
    def enabled(self) -> bool:
        return self.status == STATUS_ENABLED

    @property
    def masked(self) -> bool:
        return "*" in self.key

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> ApiToken:
        key = _str(item.get("key"))
        if key and "*" not in key:
            register_secret(key)  # legacy lists carry whole keys
        limits = _str(item.get("model_limits"))
        ips = _str(item.get("allow_ips"))
        return cls(
            id=_int(item.get("id")),
            name=_str(item.get("name")),
            status=_int(item.get("status"), STATUS_ENABLED),
            key=key,
            remain_quota=_int(item.get("remain_quota")),
            used_quota=_int(item.get("used_quota")),
            unlimited_quota=item.get("unlimited_quota") is True,
            created_time=_int(item.get("created_time")),
            accessed_time=_int(item.get("accessed_time")),
            expired_time=_int(item.get("expired_time"), -1),
            model_limits_enabled=item.get("model_limits_enabled") is True,
            model_limits=tuple(m.strip() for m in limits.split(",") if m.strip()),
            allow_ips=tuple(line.strip() for line in ips.splitlines() if line.strip()),
            group=_str(item.get("group")),
            cross_group_retry=item.get("cross_group_retry") is True,
        )

    def spec(self) -> TokenSpec:
        return TokenSpec(
            name=self.name,
            unlimited_quota=self.unlimited_quota,
            remain_quota=self.remain_quota,
            expired_time=self.expired_time,
            model_limits=self.model_limits if self.model_limits_enabled else (),
            allow_ips=self.allow_ips,
            group=self.group,
            cross_group_retry=self.cross_group_retry,
        )


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """Every field of a token create/edit body. Defaults are the web UI's: unlimited, never
    expires. There is deliberately no way to send a name-only body (reference §5 pitfall)."""

    name: str
    unlimited_quota: bool = True
    remain_quota: int = 0  # quota units; must be > 0 when not unlimited
    expired_time: int = -1  # Unix seconds; -1 = never
    model_limits: tuple[str, ...] = ()  # empty = every model of the group
    allow_ips: tuple[str, ...] = ()
    group: str = ""  # "" = the user's group
    cross_group_retry: bool = False

    def problems(self) -> list[str]:
        found = []
        if not self.name.strip():
            found.append("The key needs a name.")
        if len(self.name) > TOKEN_NAME_MAX:
            found.append(f"The name is longer than {TOKEN_NAME_MAX} characters.")
        if not self.unlimited_quota and self.remain_quota <= 0:
            found.append("Give the key a quota above zero, or make it unlimited.")
        if self.expired_time != -1 and self.expired_time <= 0:
            found.append("Pick an expiry date, or choose never.")
        return found

    def body(self) -> dict[str, Any]:
        problems = self.problems()
        if problems:
            raise ValueError(" ".join(problems))
        return {
            "name": self.name.strip(),
            "remain_quota": 0 if self.unlimited_quota else self.remain_quota,
            "unlimited_quota": self.unlimited_quota,
            "expired_time": self.expired_time,
            "model_limits_enabled": bool(self.model_limits),
            "model_limits": ",".join(self.model_limits),
            "allow_ips": "\n".join(self.allow_ips),
            "group": self.group,
            "cross_group_retry": self.cross_group_retry,
        }


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One usage log row (reference §6); `other` is already parsed from its JSON string."""

    created_at: int
    type: int
    model_name: str = ""
    token_name: str = ""
    quota: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    use_time: int = 0
    is_stream: bool = False
    group: str = ""
    request_id: str = ""
    content: str = ""
    other: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> LogEntry:
        raw = item.get("other")
        other: Any = {}
        if isinstance(raw, str) and raw.strip():
            try:
                other = jsonlib.loads(raw)
            except ValueError:
                other = {}
        elif isinstance(raw, Mapping):
            other = raw
        return cls(
            created_at=_int(item.get("created_at")),
            type=_int(item.get("type")),
            model_name=_str(item.get("model_name")),
            token_name=_str(item.get("token_name")),
            quota=_int(item.get("quota")),
            prompt_tokens=_int(item.get("prompt_tokens")),
            completion_tokens=_int(item.get("completion_tokens")),
            use_time=_int(item.get("use_time")),
            is_stream=item.get("is_stream") is True,
            group=_str(item.get("group")),
            request_id=_str(item.get("request_id")),
            content=_str(item.get("content")),
            other=other if isinstance(other, Mapping) else {},
        )


@dataclass(frozen=True, slots=True)
class LogStat:
    """GET /api/log/self/stat: consume quota in the window; rpm/tpm of the last 60 s."""

    quota: int
    rpm: int
    tpm: int


def management_root(profile: GatewayProfile) -> str:
    """Where /api lives for `profile`."""
    return (profile.management_url or profile.root_url).rstrip("/")


class Console:
    """Read-only console calls for one profile; `auth` None = anonymous."""

    def __init__(self, client: GatewayClient, auth: ConsoleAuth | None = None) -> None:
        self.client = client
        self.auth = auth
        # Set by a password login: the user id of the session cookie held in the client's jar.
        self.session_user_id: int | None = None
        self.legacy: bool | None = None  # old 0-based, bare-array pages (None = not yet seen)

    @property
    def logged_in(self) -> bool:
        return self.auth is not None

    async def status(self) -> Mapping[str, Any]:
        """`data` of GET /api/status (public)."""
        body = await self._get("/api/status")
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise self._shape("/api/status")
        return data

    async def pricing(self) -> Mapping[str, Any]:
        """The whole GET /api/pricing body: `data` plus vendors, group ratios, endpoints."""
        body = await self._get("/api/pricing")
        if not isinstance(body.get("data"), list):
            raise self._shape("/api/pricing")
        return body

    async def user_models(self) -> list[str]:
        """GET /api/user/models: the model names the logged-in user's groups may call."""
        body = await self._get("/api/user/models", need_auth=True)
        data = body.get("data")
        if not isinstance(data, list):
            raise self._shape("/api/user/models")
        return [m for m in data if isinstance(m, str)]

    async def self_groups(self) -> Mapping[str, Any]:
        """GET /api/user/self/groups: {group: {"ratio": …, "desc": …}} for the user."""
        body = await self._get("/api/user/self/groups", need_auth=True)
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise self._shape("/api/user/self/groups")
        return data

    # ---- login (reference §3) -------------------------------------------------------------

    async def login(self, username: str, password: str, *, turnstile: str = "") -> LoginResult:
        """POST /api/user/login. The session cookie lands in the client's jar; on success
        `session_user_id` is set so that later calls carry New-Api-User."""
        params = {"turnstile": turnstile} if turnstile else None
        body = await self._call(
            "POST",
            "/api/user/login",
            params=params,
            json={"username": username, "password": password},
        )
        return self._login_result(body, "/api/user/login")

    async def login_2fa(self, code: str) -> LoginResult:
        """POST /api/user/login/2fa with the pending session cookie from `login`."""
        body = await self._call("POST", "/api/user/login/2fa", json={"code": code.strip()})
        return self._login_result(body, "/api/user/login/2fa")

    def _login_result(self, body: Mapping[str, Any], path: str) -> LoginResult:
        result = LoginResult.from_data(body.get("data"))
        if result is None:
            raise self._shape(path)
        if result.user_id is not None:
            self.session_user_id = result.user_id
        return result

    async def access_token(self) -> str:
        """GET /api/user/token: a new system access token (the previous one stops working)."""
        body = await self._get("/api/user/token", need_auth=True)
        token = body.get("data")
        if not isinstance(token, str) or not token:
            raise self._shape("/api/user/token")
        register_secret(token)
        return token

    async def logout(self) -> None:
        """GET /api/user/logout: ends the cookie session (an access token stays valid)."""
        await self._get("/api/user/logout")
        self.session_user_id = None

    async def user_self(self) -> UserInfo:
        body = await self._get("/api/user/self", need_auth=True)
        data = body.get("data")
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), int):
            raise self._shape("/api/user/self")
        return UserInfo.from_data(data)

    # ---- API tokens (reference §5) ---------------------------------------------------------

    async def tokens(self, page: int = 1, page_size: int = 10) -> Page[ApiToken]:
        """One page (1-based) of the user's API tokens, newest first."""
        items, total, size = await self._paged("/api/token/", page, page_size, {})
        return Page([ApiToken.from_json(i) for i in items], page, size, total)

    async def token(self, token_id: int) -> ApiToken:
        body = await self._get(f"/api/token/{int(token_id)}", need_auth=True)
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise self._shape("/api/token/:id")
        return ApiToken.from_json(data)

    async def create_token(self, spec: TokenSpec) -> None:
        """POST /api/token/ with every field. The answer has no id: use `find_token`."""
        await self._call("POST", "/api/token/", need_auth=True, json=spec.body())

    async def find_token(self, name: str) -> ApiToken | None:
        """The newest token called `name` (from the first page, not the rate-limited search)."""
        found = await self.tokens(1, MAX_PAGE_SIZE)
        return next((t for t in found.items if t.name == name.strip()), None)

    async def update_token(self, token_id: int, spec: TokenSpec) -> ApiToken:
        """PUT /api/token/ with the whole token."""
        body = await self._call(
            "PUT", "/api/token/", need_auth=True, json={"id": int(token_id), **spec.body()}
        )
        return self._token_answer(body)

    async def set_token_status(self, token_id: int, enabled: bool) -> ApiToken:
        body = await self._call(
            "PUT",
            "/api/token/",
            need_auth=True,
            params={"status_only": "true"},
            json={"id": int(token_id), "status": STATUS_ENABLED if enabled else STATUS_DISABLED},
        )
        return self._token_answer(body)

    def _token_answer(self, body: Mapping[str, Any]) -> ApiToken:
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise self._shape("/api/token/")
        return ApiToken.from_json(data)

    async def delete_token(self, token_id: int) -> None:
        await self._call("DELETE", f"/api/token/{int(token_id)}", need_auth=True)

    async def reveal_key(self, token_id: int) -> str:
        """POST /api/token/:id/key: the whole key with "sk-" (20 calls per 20 min per IP)."""
        body = await self._call("POST", f"/api/token/{int(token_id)}/key", need_auth=True)
        data = body.get("data")
        key = data.get("key") if isinstance(data, Mapping) else None
        if not isinstance(key, str) or not key:
            raise self._shape("/api/token/:id/key")
        full = key if key.startswith("sk-") else "sk-" + key
        register_secret(full)
        register_secret(key)
        return full

    # ---- logs (reference §6) ---------------------------------------------------------------

    async def logs(
        self, page: int = 1, page_size: int = 10, filters: Mapping[str, Any] | None = None
    ) -> Page[LogEntry]:
        """GET /api/log/self: `filters` as the reference names them (type, model_name, …)."""
        items, total, size = await self._paged("/api/log/self", page, page_size, filters or {})
        return Page([LogEntry.from_json(i) for i in items], page, size, total)

    async def log_stat(self, filters: Mapping[str, Any] | None = None) -> LogStat:
        body = await self._get("/api/log/self/stat", need_auth=True, params=dict(filters or {}))
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise self._shape("/api/log/self/stat")
        return LogStat(_int(data.get("quota")), _int(data.get("rpm")), _int(data.get("tpm")))

    async def _paged(
        self, path: str, page: int, page_size: int, filters: Mapping[str, Any]
    ) -> tuple[list[Mapping[str, Any]], int | None, int]:
        """(items, total, page size) of 1-based `page`, asking in the server's own dialect.

        Modern servers take 1-based `p` + `page_size` and answer a page object; legacy ones
        take 0-based `p` + `size` and answer a bare array. The first answer tells which."""
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        page = max(1, page)
        data = await self._page_data(path, page, size, filters)
        if isinstance(data, list) and not self.legacy:
            # A legacy server read our 1-based `p` as 0-based: ask again in its dialect.
            self.legacy = True
            data = await self._page_data(path, page, size, filters)
        elif isinstance(data, Mapping):
            self.legacy = False
        if isinstance(data, list):
            return [i for i in data if isinstance(i, Mapping)], None, size
        if isinstance(data, Mapping) and isinstance(data.get("items"), list | type(None)):
            items = [i for i in data.get("items") or [] if isinstance(i, Mapping)]
            total = data.get("total")
            return items, total if isinstance(total, int) else None, size
        raise self._shape(path)

    async def _page_data(self, path: str, page: int, size: int, filters: Mapping[str, Any]) -> Any:
        if self.legacy:
            params = {**filters, "p": page - 1, "size": size}
        else:
            params = {**filters, "p": page, "page_size": size}
        body = await self._get(path, need_auth=True, params=params)
        return body.get("data")

    async def _get(
        self, path: str, *, need_auth: bool = False, params: Mapping[str, Any] | None = None
    ) -> Mapping[str, Any]:
        return await self._call("GET", path, need_auth=need_auth, params=params)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        need_auth: bool = False,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        keep_failure: bool = False,
    ) -> Mapping[str, Any]:
        if need_auth and self.auth is None and self.session_user_id is None:
            raise ValueError(f"{path} needs a console login")
        if self.auth is not None:
            headers = self.auth.headers()
        elif self.session_user_id is not None:
            # A cookie session (the client's jar) still needs New-Api-User (reference §11.2).
            headers = {"New-Api-User": str(self.session_user_id)}
        else:
            headers = {}
        body, _ = await self.client.request_json(
            method,
            management_root(self.client.profile) + path,
            headers=headers,
            params=params,
            json=json,
            send_key=False,
            keep_failure=keep_failure,
        )
        if not isinstance(body, Mapping):
            raise self._shape(path)
        return body

    def _shape(self, path: str) -> BadResponse:
        return BadResponse(
            f"The gateway's {path} answer is not in the new-api format.",
            hint="This gateway may not be new-api based; prices are shown as unknown.",
            profile=self.client.profile.name,
            request_id=self.client.last_meta.request_id,
        )


# ---- second pass: login options, search, batch delete, usage data, channels -----------------


@dataclass(frozen=True, slots=True)
class LoginOptions:
    """What /api/status says about signing in (reference §9): which forms to offer."""

    password_login: bool = True
    turnstile: bool = False
    data_export: bool = True
    version: str = ""
    system_name: str = ""

    @classmethod
    def from_status(cls, data: Mapping[str, Any]) -> LoginOptions:
        return cls(
            # Old servers lack the switch: password login was always on there.
            password_login=data.get("password_login_enabled") is not False,
            turnstile=data.get("turnstile_check") is True,
            data_export=data.get("enable_data_export") is True,
            version=_str(data.get("version")),
            system_name=_str(data.get("system_name")),
        )

    @property
    def password_form(self) -> bool:
        """A Turnstile challenge cannot be solved here: only the pasted token is left."""
        return self.password_login and not self.turnstile


@dataclass(frozen=True, slots=True)
class UsageBucket:
    """One /api/data/self row: a model's calls in one hour."""

    created_at: int
    model_name: str
    count: int
    quota: int
    token_used: int

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> UsageBucket:
        return cls(
            created_at=_int(item.get("created_at")),
            model_name=_str(item.get("model_name")),
            count=_int(item.get("count")),
            quota=_int(item.get("quota")),
            token_used=_int(item.get("token_used")),
        )


@dataclass(frozen=True, slots=True)
class Channel:
    """One upstream channel (reference §7); admins only. Keys never come back."""

    id: int
    name: str
    type: int
    status: int
    models: tuple[str, ...] = ()
    group: str = ""
    priority: int = 0
    weight: int = 0
    response_time: int = 0  # ms of the last test
    test_time: int = 0
    balance: float = 0.0
    used_quota: int = 0
    base_url: str = ""
    tag: str = ""

    @property
    def enabled(self) -> bool:
        return self.status == STATUS_ENABLED

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Channel:
        balance = item.get("balance")
        return cls(
            id=_int(item.get("id")),
            name=_str(item.get("name")),
            type=_int(item.get("type")),
            status=_int(item.get("status"), STATUS_ENABLED),
            models=tuple(m for m in _str(item.get("models")).split(",") if m),
            group=_str(item.get("group")),
            priority=_int(item.get("priority")),
            weight=_int(item.get("weight")),
            response_time=_int(item.get("response_time")),
            test_time=_int(item.get("test_time")),
            balance=float(balance) if isinstance(balance, int | float) else 0.0,
            used_quota=_int(item.get("used_quota")),
            base_url=_str(item.get("base_url")),
            tag=_str(item.get("tag")),
        )


@dataclass(frozen=True, slots=True)
class ChannelTest:
    """GET /api/channel/test/:id, passed or failed: `seconds` is how long the upstream took
    (new-api reports it for a failed test too; 0 when the test never reached the upstream),
    `message` the gateway's reason for a failure, `error_code` its code where it sends one."""

    success: bool
    seconds: float
    message: str = ""
    error_code: str = ""

    @property
    def ok(self) -> bool:
        return self.success


def search_pattern(text: str) -> str:
    """new-api token search is exact unless `%` is used (at most two, two other characters):
    a plain word of two or more characters becomes a substring search."""
    text = text.strip()
    if "%" in text or len(text) < 2:
        return text
    return f"%{text}%"


class ConsoleExtras(Console):
    """The rest of the console: token search and batch delete, usage data, channels."""

    async def search_tokens(
        self, keyword: str, page: int = 1, page_size: int = 10
    ) -> Page[ApiToken]:
        """GET /api/token/search by name (10 per minute per user on new-api)."""
        filters = {"keyword": search_pattern(keyword)}
        items, total, size = await self._paged("/api/token/search", page, page_size, filters)
        return Page([ApiToken.from_json(i) for i in items], page, size, total)

    async def delete_tokens(self, token_ids: list[int]) -> int:
        """POST /api/token/batch; how many were deleted."""
        body = await self._call(
            "POST", "/api/token/batch", need_auth=True, json={"ids": [int(i) for i in token_ids]}
        )
        return _int(body.get("data"), len(token_ids))

    async def usage_data(self, start: int, end: int) -> list[UsageBucket]:
        """GET /api/data/self between two Unix times (at most 30 days apart)."""
        body = await self._get(
            "/api/data/self",
            need_auth=True,
            params={"start_timestamp": int(start), "end_timestamp": int(end)},
        )
        data = body.get("data")
        if data is None:
            return []
        if not isinstance(data, list):
            raise self._shape("/api/data/self")
        return [UsageBucket.from_json(i) for i in data if isinstance(i, Mapping)]

    async def dashboard(self) -> Mapping[str, Any]:
        """BluesMinds' GET /api/dashboard/ summary (not an upstream route: NotFound elsewhere)."""
        body = await self._get("/api/dashboard/", need_auth=True)
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise self._shape("/api/dashboard/")
        return data

    async def channels(
        self,
        page: int = 1,
        page_size: int = 10,
        *,
        keyword: str = "",
        status: str = "",
        group: str = "",
        model: str = "",
    ) -> Page[Channel]:
        """GET /api/channel/ (or /search when a keyword or model is given)."""
        filters: dict[str, Any] = {}
        if status:
            filters["status"] = status
        if group:
            filters["group"] = group
        path = "/api/channel/"
        if keyword or model:
            path = "/api/channel/search"
            filters.update({k: v for k, v in (("keyword", keyword), ("model", model)) if v})
        items, total, size = await self._paged(path, page, page_size, filters)
        return Page([Channel.from_json(i) for i in items], page, size, total)

    async def test_channel(self, channel_id: int, model: str = "") -> ChannelTest:
        """A test the upstream failed comes back as a failed ChannelTest with its time.

        Only the test handler's own answer carries `time`: a `success: false` without it
        (bad login, no such channel, not an admin) is raised as ConsoleRejected, as anywhere."""
        path = f"/api/channel/test/{int(channel_id)}"
        body = await self._call(
            "GET", path, need_auth=True, params={"model": model} if model else None,
            keep_failure=True,
        )  # fmt: skip
        if body.get("success") is False and "time" not in body:
            meta = self.client.last_meta
            refused = ok_body_error(
                dict(body),
                status=meta.status or 200,
                request_id=meta.request_id,
                profile=self.client.profile.name,
            )
            raise refused or ConsoleRejected("The gateway refused the channel test.")
        return ChannelTest(
            success=body.get("success") is not False,
            seconds=_seconds(body.get("time")),
            message=_str(body.get("message")),
            error_code=_str(body.get("error_code")),
        )

    async def set_channel_status(self, channel_id: int, enabled: bool) -> Channel:
        body = await self._call(
            "PUT",
            "/api/channel/",
            need_auth=True,
            json={"id": int(channel_id), "status": STATUS_ENABLED if enabled else STATUS_DISABLED},
        )
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise self._shape("/api/channel/")
        return Channel.from_json(data)

    async def update_channel_balance(self, channel_id: int) -> float:
        """Ask the gateway to read the upstream account's balance now (in the upstream's
        currency, as the channel list shows it)."""
        body = await self._get(f"/api/channel/update_balance/{int(channel_id)}", need_auth=True)
        balance = body.get("balance")
        if not isinstance(balance, int | float) or isinstance(balance, bool):
            raise self._shape("/api/channel/update_balance/")
        return float(balance)

    async def delete_channel(self, channel_id: int) -> None:
        await self._call("DELETE", f"/api/channel/{int(channel_id)}", need_auth=True)
