"""What a gateway charged for an answer, read from its usage log after the answer ended.

BlueNexus says what a request cost in a header; new-api gateways (BluesMinds and the rest) only
write it to the usage log: `GET /api/log/self?request_id=…` with the console login. The row may
appear a moment after the last byte of the answer (the gateway bills when the stream ends), so the
lookup tries a few times with a short backoff, and gives up quietly: the estimate stays.

`ChatService` depends only on the `BillingLookup` protocol; `ConsoleBilling` implements it over the
account service (wired in `bluesdesk.app`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from bluesdesk.core.models import GatewayProfile
from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.errors import BluesdeskError
from bluesdesk.gateway.console import LogEntry, Page

log = logging.getLogger(__name__)

CONSUME_LOG = 2  # the usage log's type of a billed relay request
# Seconds to wait before each retry while the log row is not there yet (≈ 7 s in all).
RETRY_DELAYS = (0.5, 1.0, 2.0, 3.5)


class BillingLookup(Protocol):
    """What chat needs to learn an answer's billed cost afterwards."""

    async def billed_usd(self, profile: GatewayProfile, request_ids: Sequence[str]) -> float | None:
        """The USD the gateway charged for these requests together; None when it cannot say
        (no console login, no log rows yet, the gateway unreachable)."""
        ...


class UsageLogs(Protocol):
    """What `ConsoleBilling` needs of `services.account.AccountService`."""

    def signed_in(self, profile: GatewayProfile | None = None) -> bool: ...

    async def quota_settings(
        self, profile: GatewayProfile | None = None
    ) -> QuotaSettings | None: ...

    async def logs(
        self,
        page: int = 1,
        page_size: int = 20,
        filters: Mapping[str, object] | None = None,
        profile: GatewayProfile | None = None,
    ) -> Page[LogEntry]: ...


class ConsoleBilling:
    """Billed cost from the console's usage log (needs the profile's console login)."""

    def __init__(self, account: UsageLogs, *, delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.account = account
        self.delays = tuple(delays)

    async def billed_usd(self, profile: GatewayProfile, request_ids: Sequence[str]) -> float | None:
        if not request_ids or not self.account.signed_in(profile):
            return None
        try:
            settings = await self.account.quota_settings(profile)
        except BluesdeskError as exc:
            log.info("billed cost: no money settings for %s: %s", profile.name, exc)
            return None
        if settings is None or settings.quota_per_unit <= 0:
            return None
        total = 0
        for request_id in request_ids:
            quota = await self._quota_of(profile, request_id)
            if quota is None:  # a partial sum would understate the charge
                return None
            total += quota
        return total / settings.quota_per_unit

    async def _quota_of(self, profile: GatewayProfile, request_id: str) -> int | None:
        filters = {"request_id": request_id, "type": CONSUME_LOG}
        for attempt, delay in enumerate((0.0, *self.delays)):
            if delay:
                await asyncio.sleep(delay)
            if not self.account.signed_in(profile):  # signed out meanwhile
                return None
            try:
                page = await self.account.logs(1, 10, filters, profile)
            except BluesdeskError as exc:  # SignedOut, the network, a rate limit…
                log.info("billed cost: log lookup %d failed: %s", attempt + 1, exc)
                continue
            rows = [e for e in page.items if e.request_id == request_id and e.type == CONSUME_LOG]
            if rows:
                return sum(e.quota for e in rows)
        log.info("billed cost: no log row for request %s; keeping the estimate", request_id)
        return None
