"""The user's gateway console account: sign-in, the overview, and API token management.

A password login runs on a private client (its cookie jar holds the session and the pending 2FA
state) and is traded at once for a long-lived system access token (`GET /api/user/token`). The
access token and the user id go to the keyring per profile — never the password — so the
session survives restarts. When the gateway no longer accepts the token (expired, revoked by a
login elsewhere, user banned) the service forgets it and raises `SignedOut`, which the UI turns
into the sign-in form with `message()`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
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
from bluesdesk.errors import AuthFailed, ConsoleRejected, GatewayError, SettingsError
from bluesdesk.gateway.console import (
    ApiToken,
    Console,
    ConsoleAuth,
    LogStat,
    Page,
    TokenSpec,
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


class SignedOut(ConsoleRejected):
    """No usable console login for this profile: show the sign-in form."""

    default_hint = "Sign in to the gateway console on the Account page."


class ClientSource(Protocol):
    """What the service needs from ProfileService."""

    def active(self) -> GatewayProfile | None: ...

    async def client(self, profile: GatewayProfile | None = None) -> GatewayClient: ...


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
        except ConsoleRejected:
            pass  # optional figures; the card shows what it has
        return Overview(
            user=user,
            quota=settings,
            group_ratio=ratio,
            balance_text=quota_text(user.quota, settings),
            used_text=quota_text(user.used_quota, settings),
            stat=stat,
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
        """The whole key ("sk-…"); the gateway allows 20 reveals per 20 minutes."""
        return await self._authed(self._resolve(profile), lambda c: c.reveal_key(token_id))

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

    async def _authed(self, profile: GatewayProfile, call: Callable[[Console], Awaitable[T]]) -> T:
        """Run `call` with the profile's login; a login the gateway no longer takes is
        forgotten and becomes SignedOut."""
        console = await self._console(profile)
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

    async def _console(self, profile: GatewayProfile) -> Console:
        auth = self._auth.get(profile.id)
        if auth is None:
            raise SignedOut(
                self._messages.get(profile.id) or "Sign in to the gateway console first.",
                profile=profile.name,
            )
        console = Console(await self._profiles.client(profile), auth)
        console.legacy = self._legacy.get(profile.id)
        return console

    async def _quota_settings(self, profile: GatewayProfile) -> QuotaSettings | None:
        if profile.id not in self._quota:
            console = Console(await self._profiles.client(profile))
            try:
                self._quota[profile.id] = parse_status(await console.status())
            except PricingParseError as exc:
                log.info("console: /api/status unreadable: %s", exc)
                self._quota[profile.id] = None
        return self._quota[profile.id]

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
