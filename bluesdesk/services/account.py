"""The user's gateway console account: sign-in, the overview, and API token management.

A password login runs on a private client (its cookie jar holds the session and the pending 2FA
state) and is traded at once for a long-lived system access token (`GET /api/user/token`). The
access token and the user id go to the keyring per profile — never the password — so the
session survives restarts. When the gateway no longer accepts the token (expired, revoked by a
login elsewhere, user banned) the service forgets it and raises `SignedOut`, which the UI turns
into the sign-in form with `message()`.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from bluesdesk.core.models import GatewayProfile
from bluesdesk.core.pricing import (
    DisplayType,
    PricingParseError,
    QuotaSettings,
    format_amount,
    parse_status,
)
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.errors import (
    AuthFailed,
    BadResponse,
    ConsoleRejected,
    Forbidden,
    GatewayError,
    NotFound,
    RateLimited,
    SettingsError,
)
from bluesdesk.gateway.console import (
    MAX_PAGE_SIZE,
    ApiToken,
    Channel,
    ChannelTest,
    Console,
    ConsoleAuth,
    ConsoleExtras,
    LogEntry,
    LoginOptions,
    LogStat,
    Page,
    TokenSpec,
    UsageBucket,
    UserInfo,
)
from bluesdesk.gateway.http import GatewayClient
from bluesdesk.secrets.keystore import KeyStore

log = logging.getLogger(__name__)

T = TypeVar("T")
ACCESS_TOKEN_KIND = "access_token"
USER_ID_KIND = "user_id"
EXPIRED_MESSAGE = (
    "Your console session has ended (it expired, or the access token was replaced by a login "
    "elsewhere). Sign in again."
)
REVEAL_LIMIT_MESSAGE = (
    "The gateway allows only 20 key reveals and sign-ins per 20 minutes from your address, "
    "and that limit is used up. Try again in a few minutes."
)
SEARCH_LIMIT_MESSAGE = (
    "The gateway allows 10 key searches a minute. Wait a moment and search again."
)
ROLE_ADMIN = 10
DAY = 86_400
MAX_DATA_DAYS = 30  # /api/data/self refuses longer spans
LOG_FALLBACK_PAGES = 20  # at most 2000 log rows summed when data export is off


class SignedOut(ConsoleRejected):
    """No usable console login for this profile: show the sign-in form."""

    default_hint = "Sign in to the gateway console on the Account page."


class ClientSource(Protocol):
    """What the service needs from ProfileService."""

    def active(self) -> GatewayProfile | None: ...

    async def client(self, profile: GatewayProfile | None = None) -> GatewayClient: ...

    async def save(self, profile: GatewayProfile, api_key: str | None = None) -> None: ...


LoginClientFactory = Callable[[GatewayProfile], GatewayClient]


def _private_client(profile: GatewayProfile) -> GatewayClient:
    # No API key (console routes never take it) and no retries: login counts against the
    # gateway's critical limit of 20 per 20 minutes.
    return GatewayClient(profile, None, policy=RetryPolicy(max_retries=0))


@dataclass(frozen=True, slots=True)
class Overview:
    """The account card: who, and the money in the gateway's display currency."""

    user: UserInfo
    quota: QuotaSettings | None  # None: /api/status unreadable, amounts in raw quota units
    group_ratio: float | None
    balance_text: str
    used_text: str
    stat: LogStat | None = None
    dashboard: Mapping[str, object] | None = None  # BluesMinds' /api/dashboard/, where it exists


@dataclass(frozen=True, slots=True)
class DayUsage:
    day: int  # local midnight, Unix seconds
    quota: int = 0
    tokens: int = 0
    requests: int = 0


@dataclass(frozen=True, slots=True)
class ModelUsage:
    model: str
    quota: int
    tokens: int
    requests: int


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """Spend and tokens per local day, and the models that cost most, over `len(days)` days.

    `source` says where the numbers came from: "data" (/api/data/self) or "logs" (summed
    consume logs, when the gateway has data export off; `truncated` if there were too many)."""

    days: list[DayUsage]
    top_models: list[ModelUsage]
    source: str
    truncated: bool = False
    total_quota: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_quota", sum(d.quota for d in self.days))


def local_midnight(ts: float) -> int:
    moment = datetime.fromtimestamp(ts)
    return int(moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def summarize_usage(
    rows: Iterable[tuple[int, str, int, int, int]], days: int, now: float
) -> UsageSummary:
    """(time, model, quota, tokens, requests) rows into per-day totals and the top 5 models."""
    first = local_midnight(now - (days - 1) * DAY)
    starts = [local_midnight(first + i * DAY + DAY // 2) for i in range(days)]
    per_day = {d: [0, 0, 0] for d in starts}
    per_model: dict[str, list[int]] = {}
    for when, model, quota, tokens, requests in rows:
        bucket = per_day.get(local_midnight(when))
        if bucket is None:
            continue  # outside the window
        bucket[0] += quota
        bucket[1] += tokens
        bucket[2] += requests
        totals = per_model.setdefault(model or "(unknown)", [0, 0, 0])
        totals[0] += quota
        totals[1] += tokens
        totals[2] += requests
    top = sorted(per_model.items(), key=lambda kv: (-kv[1][0], -kv[1][2], kv[0]))[:5]
    return UsageSummary(
        days=[DayUsage(d, *per_day[d]) for d in starts],
        top_models=[ModelUsage(m, q, t, r) for m, (q, t, r) in top],
        source="data",
    )


LOG_TYPES = {1: "Top-up", 2: "Consume", 3: "Manage", 4: "System", 5: "Error", 6: "Refund"}
CSV_COLUMNS = (
    "time",
    "type",
    "model",
    "token",
    "group",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "quota",
    "duration_s",
    "first_token_ms",
    "stream",
    "request_id",
)


def log_row(entry: LogEntry, settings: QuotaSettings | None) -> list[str]:
    """One log entry as the CSV and the table show it (local time)."""
    frt = entry.other.get("frt")
    return [
        datetime.fromtimestamp(entry.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        LOG_TYPES.get(entry.type, str(entry.type)),
        entry.model_name,
        entry.token_name,
        entry.group,
        str(entry.prompt_tokens),
        str(entry.completion_tokens),
        quota_text(entry.quota, settings),
        str(entry.quota),
        str(entry.use_time),
        str(int(frt)) if isinstance(frt, int | float) and frt > 0 else "",
        "yes" if entry.is_stream else "no",
        entry.request_id,
    ]


def logs_csv(entries: Iterable[LogEntry], settings: QuotaSettings | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(log_row(entry, settings))
    return out.getvalue()


def quota_text(quota: int, settings: QuotaSettings | None) -> str:
    """Quota units as the console shows money ("¤12.50", "$0.40"); raw units when unknown."""
    if settings is None:
        return f"{quota:,} quota"
    return format_amount(quota / settings.quota_per_unit, settings)


def quota_from_display(amount: float, settings: QuotaSettings | None) -> int:
    """An amount typed in the display currency, in quota units (for a token's quota)."""
    if settings is None or settings.display_type is DisplayType.TOKENS:
        return round(amount)
    rate = {
        DisplayType.CNY: settings.usd_exchange_rate,
        DisplayType.CUSTOM: settings.custom_exchange_rate,
    }.get(settings.display_type, 1.0)
    usd = Decimal(repr(amount)) / Decimal(repr(rate or 1.0))
    return int((usd * Decimal(repr(settings.quota_per_unit))).to_integral_value())


class AccountService:
    """Console sessions per profile. Listeners get the profile id when sign-in state changes."""

    def __init__(
        self,
        profiles: ClientSource,
        keys: KeyStore,
        *,
        login_client: LoginClientFactory = _private_client,
    ) -> None:
        self._profiles = profiles
        self._keys = keys
        self._login_client = login_client
        self._auth: dict[str, ConsoleAuth] = {}
        self._users: dict[str, UserInfo] = {}
        self._pending: dict[str, Console] = {}  # waiting for the 2FA code
        self._messages: dict[str, str] = {}
        self._quota: dict[str, QuotaSettings | None] = {}
        self._options: dict[str, LoginOptions] = {}
        self._legacy: dict[str, bool | None] = {}
        self.listeners: list[Callable[[str], None]] = []

    # ---- State ----------------------------------------------------------------------------

    def signed_in(self, profile: GatewayProfile | None = None) -> bool:
        return self._resolve(profile).id in self._auth

    def awaiting_2fa(self, profile: GatewayProfile | None = None) -> bool:
        return self._resolve(profile).id in self._pending

    def user(self, profile: GatewayProfile | None = None) -> UserInfo | None:
        return self._users.get(self._resolve(profile).id)

    def message(self, profile: GatewayProfile | None = None) -> str:
        """Why the profile is signed out ("" when it never was signed in)."""
        return self._messages.get(self._resolve(profile).id, "")

    async def session(self, profile: GatewayProfile) -> ConsoleAuth | None:
        """The stored login without a network call (CatalogService's session provider)."""
        found = self._auth.get(profile.id)
        if found is not None:
            return found
        return await self._stored_auth(profile)

    # ---- Sign-in --------------------------------------------------------------------------

    async def restore(self, profile: GatewayProfile | None = None) -> UserInfo | None:
        """Sign in from the keyring (at start-up); None when nothing is stored or it expired.

        A network failure is raised and the stored token kept: it may work again later."""
        profile = self._resolve(profile)
        if profile.id in self._auth:
            return self._users.get(profile.id) or await self._verify(profile)
        auth = await self._stored_auth(profile)
        if auth is None:
            return None
        self._auth[profile.id] = auth
        try:
            return await self._verify(profile)
        except SignedOut:
            return None

    async def sign_in(
        self, username: str, password: str, profile: GatewayProfile | None = None
    ) -> bool:
        """Password login. True: signed in. False: the gateway wants the 2FA code next."""
        profile = self._resolve(profile)
        await self._drop_pending(profile.id)
        console = Console(self._login_client(profile))
        try:
            result = await console.login(username.strip(), password)
            if result.require_2fa:
                self._pending[profile.id] = console
                self._changed(profile.id)
                return False
            await self._finish_password_login(profile, console)
        finally:
            if profile.id not in self._pending:
                await console.client.aclose()
        return True

    async def submit_2fa(self, code: str, profile: GatewayProfile | None = None) -> UserInfo:
        profile = self._resolve(profile)
        console = self._pending.get(profile.id)
        if console is None:
            raise SignedOut(
                "The sign-in step has expired. Enter your user name and password again.",
                profile=profile.name,
            )
        result = await console.login_2fa(code)  # a wrong code leaves the step open for a retry
        if result.require_2fa:
            raise ConsoleRejected("The gateway asked for the code again.", profile=profile.name)
        del self._pending[profile.id]
        try:
            return await self._finish_password_login(profile, console)
        finally:
            await console.client.aclose()

    async def cancel_2fa(self, profile: GatewayProfile | None = None) -> None:
        profile = self._resolve(profile)
        await self._drop_pending(profile.id)
        self._changed(profile.id)

    async def sign_in_with_token(
        self, token: str, user_id: int, profile: GatewayProfile | None = None
    ) -> UserInfo:
        """For accounts that cannot use a password here (Turnstile, OAuth, passkeys)."""
        profile = self._resolve(profile)
        token = token.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token or user_id <= 0:
            raise SettingsError("Paste the access token and enter your numeric user id.")
        return await self._adopt(profile, ConsoleAuth(token, user_id))

    async def sign_out(self, profile: GatewayProfile | None = None) -> None:
        """Forget the login here and in the keyring; tell the gateway if it is reachable."""
        profile = self._resolve(profile)
        auth = self._auth.get(profile.id)
        await self._drop_pending(profile.id)
        if auth is not None:
            try:
                await Console(await self._profiles.client(profile), auth).logout()
            except GatewayError as exc:  # signing out locally must not depend on the network
                log.info("console logout failed: %s", exc.user_message)
        await self._forget(profile, "")

    # ---- Overview and tokens ---------------------------------------------------------------

    async def overview(self, profile: GatewayProfile | None = None) -> Overview:
        profile = self._resolve(profile)
        user = await self._verify(profile)
        settings = await self._quota_settings(profile)
        ratio: float | None = None
        stat: LogStat | None = None
        console = await self._console(profile)
        try:
            groups = await console.self_groups()
            value = groups.get(user.group, {})
            raw = value.get("ratio") if isinstance(value, Mapping) else None
            ratio = float(raw) if isinstance(raw, int | float) else None
            stat = await console.log_stat()
        except (ConsoleRejected, Forbidden, NotFound):
            pass  # optional figures; the card shows what it has
        dashboard: Mapping[str, object] | None = None
        try:
            dashboard = await console.dashboard()
        except (NotFound, Forbidden, ConsoleRejected, BadResponse):
            dashboard = None  # upstream new-api has no /api/dashboard/; it is optional anyway
        return Overview(
            user=user,
            quota=settings,
            group_ratio=ratio,
            balance_text=quota_text(user.quota, settings),
            used_text=quota_text(user.used_quota, settings),
            stat=stat,
            dashboard=dashboard,
        )

    async def quota_settings(self, profile: GatewayProfile | None = None) -> QuotaSettings | None:
        return await self._quota_settings(self._resolve(profile))

    async def tokens(
        self, page: int = 1, page_size: int = 20, profile: GatewayProfile | None = None
    ) -> Page[ApiToken]:
        return await self._authed(self._resolve(profile), lambda c: c.tokens(page, page_size))

    async def create_token(
        self, spec: TokenSpec, profile: GatewayProfile | None = None
    ) -> ApiToken | None:
        """Create the key and find it again (the create answer carries no id)."""
        spec.body()  # raises ValueError with the problems before anything is sent

        async def create(console: Console) -> ApiToken | None:
            await console.create_token(spec)
            return await console.find_token(spec.name)

        return await self._authed(self._resolve(profile), create)

    async def update_token(
        self, token_id: int, spec: TokenSpec, profile: GatewayProfile | None = None
    ) -> ApiToken:
        spec.body()
        return await self._authed(self._resolve(profile), lambda c: c.update_token(token_id, spec))

    async def set_token_enabled(
        self, token_id: int, enabled: bool, profile: GatewayProfile | None = None
    ) -> ApiToken:
        return await self._authed(
            self._resolve(profile), lambda c: c.set_token_status(token_id, enabled)
        )

    async def delete_token(self, token_id: int, profile: GatewayProfile | None = None) -> None:
        await self._authed(self._resolve(profile), lambda c: c.delete_token(token_id))

    async def reveal_key(self, token_id: int, profile: GatewayProfile | None = None) -> str:
        """The whole key ("sk-…"). The gateway allows 20 reveals (and sign-ins) per 20 minutes
        per address, so this call is never retried and a 429 says so plainly."""
        profile = self._resolve(profile)
        client = self._login_client(profile)
        try:
            return await self._authed(profile, lambda c: c.reveal_key(token_id), client)
        except RateLimited as exc:
            raise RateLimited(
                REVEAL_LIMIT_MESSAGE,
                retry_after=exc.retry_after,
                hint="",
                profile=profile.name,
                request_id=exc.request_id,
            ) from None
        finally:
            await client.aclose()

    async def use_key(self, token_id: int, profile: GatewayProfile | None = None) -> str:
        """Reveal the key and keep it as the profile's API key (keyring). Returns the key."""
        profile = self._resolve(profile)
        key = await self.reveal_key(token_id, profile)
        await self._profiles.save(profile, api_key=key)
        return key

    async def search_tokens(
        self,
        keyword: str,
        page: int = 1,
        page_size: int = 20,
        profile: GatewayProfile | None = None,
    ) -> Page[ApiToken]:
        """Tokens whose name contains `keyword` (new-api: 10 searches a minute)."""
        profile = self._resolve(profile)
        client = self._login_client(profile)
        try:
            return await self._authed(
                profile, lambda c: c.search_tokens(keyword, page, page_size), client
            )
        except RateLimited as exc:
            raise RateLimited(SEARCH_LIMIT_MESSAGE, hint="", profile=profile.name) from exc
        finally:
            await client.aclose()

    async def delete_tokens(
        self, token_ids: list[int], profile: GatewayProfile | None = None
    ) -> int:
        if not token_ids:
            return 0
        return await self._authed(self._resolve(profile), lambda c: c.delete_tokens(token_ids))

    # ---- Sign-in options, balance ----------------------------------------------------------

    async def login_options(self, profile: GatewayProfile | None = None) -> LoginOptions:
        """What /api/status allows (read once per profile; public, so before sign-in)."""
        profile = self._resolve(profile)
        if profile.id not in self._options:
            await self._read_status(profile)
        return self._options[profile.id]

    async def balance(self, profile: GatewayProfile | None = None) -> str:
        """The remaining balance in the display currency, re-read from /api/user/self."""
        profile = self._resolve(profile)
        user = await self._verify(profile)
        return quota_text(user.quota, await self._quota_settings(profile))

    def is_admin(self, profile: GatewayProfile | None = None) -> bool:
        user = self.user(profile)
        return user is not None and user.role >= ROLE_ADMIN

    # ---- Logs and usage ---------------------------------------------------------------------

    async def logs(
        self,
        page: int = 1,
        page_size: int = 20,
        filters: Mapping[str, object] | None = None,
        profile: GatewayProfile | None = None,
    ) -> Page[LogEntry]:
        """One page of /api/log/self; `filters` as new-api names them (type, model_name,
        token_name, group, request_id, start_timestamp, end_timestamp); empty ones dropped."""
        clean = {k: v for k, v in (filters or {}).items() if v not in ("", 0, None)}
        return await self._authed(self._resolve(profile), lambda c: c.logs(page, page_size, clean))

    async def all_logs(
        self,
        filters: Mapping[str, object] | None = None,
        limit: int = 10_000,
        profile: GatewayProfile | None = None,
    ) -> list[LogEntry]:
        """Every log row matching `filters` (up to `limit`), for the CSV export."""
        found: list[LogEntry] = []
        page = 1
        while len(found) < limit:
            batch = await self.logs(page, MAX_PAGE_SIZE, filters, profile)
            found.extend(batch.items)
            if not batch.items or not batch.has_next:
                break
            page += 1
        return found[:limit]

    async def log_stat(self, profile: GatewayProfile | None = None) -> LogStat:
        return await self._authed(self._resolve(profile), lambda c: c.log_stat())

    async def usage(
        self, days: int = 7, profile: GatewayProfile | None = None, now: float | None = None
    ) -> UsageSummary:
        """Spend and tokens per day over the last `days` (≤ 30), from /api/data/self, or
        summed from the consume logs when the gateway has data export off."""
        profile = self._resolve(profile)
        days = max(1, min(days, MAX_DATA_DAYS))
        moment = time.time() if now is None else now
        start = local_midnight(moment - (days - 1) * DAY)
        end = int(moment)
        options = await self.login_options(profile)
        if options.data_export:
            buckets: list[UsageBucket] = await self._authed(
                profile, lambda c: c.usage_data(start, end)
            )
            rows = [(b.created_at, b.model_name, b.quota, b.token_used, b.count) for b in buckets]
            return summarize_usage(rows, days, moment)
        entries: list[LogEntry] = []
        filters = {"type": 2, "start_timestamp": start, "end_timestamp": end}
        truncated = False
        for page in range(1, LOG_FALLBACK_PAGES + 1):
            batch = await self.logs(page, MAX_PAGE_SIZE, filters, profile)
            entries.extend(batch.items)
            if not batch.has_next:
                break
        else:
            truncated = True
        rows = [
            (e.created_at, e.model_name, e.quota, e.prompt_tokens + e.completion_tokens, 1)
            for e in entries
        ]
        summary = summarize_usage(rows, days, moment)
        return UsageSummary(summary.days, summary.top_models, "logs", truncated)

    async def dashboard(self, profile: GatewayProfile | None = None) -> Mapping[str, object] | None:
        """BluesMinds' /api/dashboard/ summary; None where the gateway has no such route."""
        try:
            return await self._authed(self._resolve(profile), lambda c: c.dashboard())
        except NotFound:
            return None

    # ---- Channels (admins) ------------------------------------------------------------------

    async def channels(
        self,
        page: int = 1,
        page_size: int = 20,
        *,
        keyword: str = "",
        status: str = "",
        group: str = "",
        model: str = "",
        profile: GatewayProfile | None = None,
    ) -> Page[Channel]:
        return await self._authed(
            self._resolve(profile),
            lambda c: c.channels(
                page, page_size, keyword=keyword, status=status, group=group, model=model
            ),
        )

    async def test_channel(
        self, channel_id: int, model: str = "", profile: GatewayProfile | None = None
    ) -> ChannelTest:
        return await self._authed(
            self._resolve(profile), lambda c: c.test_channel(channel_id, model)
        )

    async def set_channel_enabled(
        self, channel_id: int, enabled: bool, profile: GatewayProfile | None = None
    ) -> Channel:
        return await self._authed(
            self._resolve(profile), lambda c: c.set_channel_status(channel_id, enabled)
        )

    async def refresh_channel_balance(
        self, channel_id: int, profile: GatewayProfile | None = None
    ) -> float:
        return await self._authed(
            self._resolve(profile), lambda c: c.update_channel_balance(channel_id)
        )

    async def delete_channel(self, channel_id: int, profile: GatewayProfile | None = None) -> None:
        await self._authed(self._resolve(profile), lambda c: c.delete_channel(channel_id))

    # ---- Internals --------------------------------------------------------------------------

    async def _finish_password_login(self, profile: GatewayProfile, console: Console) -> UserInfo:
        user_id = console.session_user_id
        if user_id is None:
            raise ConsoleRejected("The gateway did not say who signed in.", profile=profile.name)
        token = await console.access_token()
        return await self._adopt(profile, ConsoleAuth(token, user_id))

    async def _adopt(self, profile: GatewayProfile, auth: ConsoleAuth) -> UserInfo:
        """Check `auth` against the gateway, then keep it (memory and keyring)."""
        console = Console(await self._profiles.client(profile), auth)
        try:
            user = await console.user_self()
        except (AuthFailed, ConsoleRejected) as exc:
            raise ConsoleRejected(
                "The gateway did not accept this access token and user id: "
                + exc.user_message.removeprefix("The gateway refused the request: "),
                profile=profile.name,
            ) from None
        await self._keys.set(profile.id, auth.token, ACCESS_TOKEN_KIND)
        await self._keys.set(profile.id, str(auth.user_id), USER_ID_KIND)
        self._auth[profile.id] = auth
        self._users[profile.id] = user
        self._legacy[profile.id] = console.legacy
        self._messages.pop(profile.id, None)
        self._changed(profile.id)
        return user

    async def _verify(self, profile: GatewayProfile) -> UserInfo:
        user = await self._authed(profile, lambda c: c.user_self())
        self._users[profile.id] = user
        return user

    async def _authed(
        self,
        profile: GatewayProfile,
        call: Callable[[ConsoleExtras], Awaitable[T]],
        client: GatewayClient | None = None,
    ) -> T:
        """Run `call` with the profile's login; a login the gateway no longer takes is
        forgotten and becomes SignedOut. `client` replaces the pool's (no retries)."""
        console = await self._console(profile, client)
        try:
            result = await call(console)
        except AuthFailed as exc:
            await self._forget(profile, EXPIRED_MESSAGE)
            raise SignedOut(EXPIRED_MESSAGE, profile=profile.name) from exc
        except ConsoleRejected as exc:
            # success:false is also how new-api says "invalid access token" (HTTP 200), and
            # messages must not be parsed: ask /api/user/self whether the login still works.
            if isinstance(exc, SignedOut) or await self._still_valid(console):
                raise
            await self._forget(profile, EXPIRED_MESSAGE)
            raise SignedOut(EXPIRED_MESSAGE, profile=profile.name) from exc
        self._legacy[profile.id] = console.legacy
        return result

    @staticmethod
    async def _still_valid(console: Console) -> bool:
        try:
            await console.user_self()
        except (AuthFailed, ConsoleRejected):
            return False
        except GatewayError:
            return True  # cannot tell; keep the login
        return True

    async def _console(
        self, profile: GatewayProfile, client: GatewayClient | None = None
    ) -> ConsoleExtras:
        auth = self._auth.get(profile.id)
        if auth is None:
            raise SignedOut(
                self._messages.get(profile.id) or "Sign in to the gateway console first.",
                profile=profile.name,
            )
        console = ConsoleExtras(client or await self._profiles.client(profile), auth)
        console.legacy = self._legacy.get(profile.id)
        return console

    async def _quota_settings(self, profile: GatewayProfile) -> QuotaSettings | None:
        if profile.id not in self._quota:
            await self._read_status(profile)
        return self._quota[profile.id]

    async def _read_status(self, profile: GatewayProfile) -> None:
        """/api/status once per profile: money settings and login options."""
        status = await Console(await self._profiles.client(profile)).status()
        self._options[profile.id] = LoginOptions.from_status(status)
        try:
            self._quota[profile.id] = parse_status(status)
        except PricingParseError as exc:
            log.info("console: /api/status unreadable: %s", exc)
            self._quota[profile.id] = None

    async def _stored_auth(self, profile: GatewayProfile) -> ConsoleAuth | None:
        token = await self._keys.get(profile.id, ACCESS_TOKEN_KIND)
        raw_id = await self._keys.get(profile.id, USER_ID_KIND)
        if not token or not raw_id or not raw_id.isdigit():
            return None
        return ConsoleAuth(token, int(raw_id))

    async def _forget(self, profile: GatewayProfile, message: str) -> None:
        self._auth.pop(profile.id, None)
        self._users.pop(profile.id, None)
        self._legacy.pop(profile.id, None)
        if message:
            self._messages[profile.id] = message
        else:
            self._messages.pop(profile.id, None)
        await self._keys.delete(profile.id, ACCESS_TOKEN_KIND)
        await self._keys.delete(profile.id, USER_ID_KIND)
        self._changed(profile.id)

    async def _drop_pending(self, profile_id: str) -> None:
        pending = self._pending.pop(profile_id, None)
        if pending is not None:
            await pending.client.aclose()

    def _resolve(self, profile: GatewayProfile | None) -> GatewayProfile:
        found = profile or self._profiles.active()
        if found is None:
            raise SettingsError(
                "No gateway profile is set up yet.",
                hint="Add a gateway in Settings, or start the demo.",
            )
        return found

    def _changed(self, profile_id: str) -> None:
        for listener in list(self.listeners):
            listener(profile_id)
