"""Seeded accounts and API keys: printed at start, written in README.md and docs/emulator.md.

Fixed values so that demo mode, the docs and the tests agree. They only ever exist on 127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeedAccount:
    id: int
    username: str
    password: str
    role: int  # 1 user, 10 admin, 100 root (new-api)
    group: str
    api_key: str  # "sk-" + 48 characters, as new-api issues them
    quota: int  # remaining balance, quota units (500000 = $1)
    twofa_code: str = ""  # fixed code accepted at /api/user/login/2fa ("" = no 2FA)
    display_name: str = ""


def _key(tag: str) -> str:
    body = (tag + "x7Qm2Lp9Zr4Tk8Wv3Nb6Hd1Jf5Gc0Ys").ljust(48, "0")[:48]
    return "sk-" + body


ROOT = SeedAccount(
    id=1,
    username="root",
    password="root-password",
    role=100,
    group="vip",
    api_key=_key("rootkey"),
    quota=500_000_000,
    display_name="Root Admin",
)
DEMO = SeedAccount(
    id=2,
    username="demo",
    password="demo-password",
    role=1,
    group="default",
    api_key=_key("demokey"),
    quota=250_000_000,
    display_name="Demo User",
)
SECURE = SeedAccount(
    id=3,
    username="secure",
    password="secure-password",
    role=1,
    group="vip",
    api_key=_key("securekey"),
    quota=50_000_000,
    twofa_code="424242",
    display_name="2FA User",
)

SEED_ACCOUNTS: tuple[SeedAccount, ...] = (ROOT, DEMO, SECURE)
