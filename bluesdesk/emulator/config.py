"""Emulator settings: which gateway it imitates and how it behaves."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class Flavor(enum.StrEnum):
    BLUESMINDS = (
        "bluesminds"  # the seeds' BluesMinds: new-api + bare session-token auth, /api/dashboard/
    )
    NEWAPI = "newapi"  # upstream new-api exactly as the reference describes it
    MINDPROXY = "mindproxy"  # X-TT-* headers, /anthropic/v1/messages alias
    BLUENEXUS = "bluenexus"  # relay under /api/v1, X-Credits-* headers, 30 RPM


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    flavor: Flavor = Flavor.BLUESMINDS
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    data_dir: Path | None = None  # None = state in memory; else SQLite in this folder
    rpm: int = 0  # per-key requests per minute; 0 = the flavor's default (see `effective_rpm`)
    rpm_window_s: float = 60.0  # the RPM limit's window; tests shrink it ("20 per 3 s")
    tokens_per_second: float = 0.0  # streaming pace; 0 = as fast as possible (tests)
    legacy: bool = (
        False  # serve old new-api shapes (0-based p, `size`, bare arrays, old /api/pricing)
    )
    seed_history_days: int = 30  # consume logs seeded so charts have content on first run
    quota_per_unit: int = 500_000
    enable_data_export: bool = True
    api_rate_limit: bool = (
        True  # the /api IP limits of the reference (360/180 s, critical 20/20 min)
    )
    blob_max_bytes: int = 200 * 1024 * 1024  # served files (image urls) kept, LRU beyond this
    blob_max_age_s: float = 3600.0  # served files older than this answer 404
    idempotency_wait_s: float = 60.0  # how long a duplicate waits for the first; then 409

    @property
    def effective_rpm(self) -> int:
        if self.rpm:
            return self.rpm
        return {
            Flavor.BLUESMINDS: 20,  # Free plan
            Flavor.NEWAPI: 0,  # upstream has no per-key RPM by default
            Flavor.MINDPROXY: 60,
            Flavor.BLUENEXUS: 30,
        }[self.flavor]

    @property
    def relay_prefix(self) -> str:
        """Where /v1 lives: BlueNexus serves its OpenAI surface under /api/v1."""
        return "/api/v1" if self.flavor is Flavor.BLUENEXUS else "/v1"
