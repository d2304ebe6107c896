"""First-run content: the fixed accounts and keys, a few extra keys, channels, 30 days of logs.

Deterministic (random.Random(7)) so that charts and screenshots look the same on every run;
timestamps are relative to the moment of seeding.
"""

from __future__ import annotations

import json
import random
import time

from bluesdesk.emulator.accounts import DEMO, SEED_ACCOUNTS
from bluesdesk.emulator.billing import quota_for
from bluesdesk.emulator.catalog import GROUP_RATIOS, MODELS
from bluesdesk.emulator.store import Store

# (name, remain_quota, unlimited, status, model_limits) extra keys for the demo user.
_DEMO_EXTRA_KEYS: tuple[tuple[str, int, bool, int, str], ...] = (
    ("ci-bot", 5_000_000, False, 1, "gpt-4o-mini,gpt-4o"),
    ("old-laptop", 0, True, 2, ""),
)

# (type, name, models, group, base_url) — channel type ids follow new-api's enum.
_CHANNELS: tuple[tuple[int, str, str, str, str], ...] = (
    (
        1,
        "openai-primary",
        "gpt-4o,gpt-4o-mini,gpt-4.1,gpt-5.1,dall-e-3,gpt-image-1,tts-1,whisper-1",
        "default,vip",
        "https://api.openai.com",
    ),
    (1, "openai-backup", "gpt-4o,gpt-4o-mini,gpt-4.1", "default", "https://backup.example.net"),
    (
        14,
        "anthropic-main",
        "claude-opus-4-5,claude-sonnet-4-5,claude-haiku-4-5",
        "default,vip",
        "https://api.anthropic.com",
    ),
    (
        24,
        "gemini",
        "gemini-2.5-pro,gemini-2.0-flash,gemini-2.5-flash",
        "default,vip",
        "https://generativelanguage.googleapis.com",
    ),
    (43, "deepseek", "deepseek-chat,deepseek-reasoner", "default", "https://api.deepseek.com"),
    (48, "xai", "grok-3,grok-3-mini", "vip", "https://api.x.ai"),
    (
        17,
        "aliyun-qwen",
        "qwen-max,qwen-plus,qwen-turbo",
        "default,vip",
        "https://dashscope.aliyuncs.com",
    ),
    (42, "mistral", "mistral-large,mistral-small,codestral", "default", "https://api.mistral.ai"),
)

# Models the demo user "used" in the seeded history, with relative weights.
_HISTORY_MODELS: tuple[tuple[str, int], ...] = (
    ("gpt-4o", 30),
    ("gpt-4o-mini", 25),
    ("claude-sonnet-4-5", 15),
    ("gpt-4.1", 10),
    ("deepseek-chat", 8),
    ("gemini-2.0-flash", 6),
    ("claude-haiku-4-5", 4),
    ("dall-e-3", 2),
)


def key_for(tag: str, rng: random.Random) -> str:
    """A 48-character key body (no sk- prefix), as new-api stores keys."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return (tag + "".join(rng.choice(alphabet) for _ in range(48)))[:48]


def seed(store: Store, *, history_days: int, now: int | None = None) -> None:
    """Fill an empty database. Does nothing when it has been seeded before (data_dir restarts)."""
    if store.meta("seeded") == "1":
        return
    now = int(time.time()) if now is None else now
    rng = random.Random(7)
    for acc in SEED_ACCOUNTS:
        store.insert(
            "users",
            {
                "id": acc.id,
                "username": acc.username,
                "password": acc.password,
                "display_name": acc.display_name,
                "email": f"{acc.username}@example.com",
                "role": acc.role,
                "grp": acc.group,
                "quota": acc.quota,
                "aff_code": acc.username.upper()[:4] + "A1",
                "twofa_code": acc.twofa_code,
            },
        )
        store.insert(
            "tokens",
            {
                "user_id": acc.id,
                "key": acc.api_key.removeprefix("sk-"),
                "name": "default",
                "created_time": now - 40 * 86400,
                "accessed_time": now - 3600,
                "unlimited_quota": 1,
                "remain_quota": 0,
            },
        )
    for name, remain, unlimited, status, limits in _DEMO_EXTRA_KEYS:
        store.insert(
            "tokens",
            {
                "user_id": DEMO.id,
                "key": key_for("", rng),
                "name": name,
                "status": status,
                "created_time": now - 20 * 86400,
                "accessed_time": now - 86400,
                "remain_quota": remain,
                "unlimited_quota": int(unlimited),
                "model_limits_enabled": int(bool(limits)),
                "model_limits": limits,
            },
        )
    for i, (ctype, name, models, group, base_url) in enumerate(_CHANNELS):
        store.insert(
            "channels",
            {
                "type": ctype,
                "key": "sk-upstream-" + key_for("", rng)[:20],
                "name": name,
                "status": 2 if name == "openai-backup" else 1,
                "weight": 10 - i,
                "priority": i % 3,
                "created_time": now - 60 * 86400 + i * 3600,
                "test_time": now - 7200,
                "response_time": 300 + rng.randrange(1500),
                "base_url": base_url,
                "balance": round(rng.uniform(5, 500), 2),
                "balance_updated_time": now - 86400,
                "models": models,
                "grp": group,
                "tag": name.split("-")[0],
            },
        )
    _seed_history(store, now=now, days=history_days, rng=rng)
    store.set_meta("seeded", "1")


def _seed_history(store: Store, *, now: int, days: int, rng: random.Random) -> None:
    token = store.one(
        "SELECT id, name FROM tokens WHERE user_id = ? ORDER BY id LIMIT 1", (DEMO.id,)
    )
    assert token is not None
    names = [m for m, _ in _HISTORY_MODELS]
    weights = [w for _, w in _HISTORY_MODELS]
    group_ratio = GROUP_RATIOS[DEMO.group]
    rows: list[tuple[object, ...]] = []
    total_quota = 0
    start = now - days * 86400
    for day in range(days):
        for _ in range(rng.randrange(4, 22)):
            created = start + day * 86400 + rng.randrange(7 * 3600, 23 * 3600)
            if created >= now:
                continue
            model = MODELS[rng.choices(names, weights)[0]]
            prompt = rng.randrange(20, 2500) if model.quota_type == 0 else 0
            completion = rng.randrange(10, 1800) if model.quota_type == 0 else 0
            quota = quota_for(model, prompt, completion, 0, 1, group_ratio, 500_000)
            is_stream = rng.random() < 0.7
            frt = rng.randrange(180, 1400)
            other = {
                "model_ratio": model.model_ratio,
                "group_ratio": group_ratio,
                "completion_ratio": model.completion_ratio,
                "cache_tokens": 0,
                "cache_ratio": model.cache_ratio,
                "model_price": model.model_price if model.quota_type == 1 else -1,
                "user_group_ratio": -1,
                "frt": frt,
                "request_path": "/v1/chat/completions"
                if model.quota_type == 0
                else "/v1/images/generations",
            }
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(created))
            request_id = f"{stamp}{rng.getrandbits(32):08x}"
            rows.append(
                (
                    DEMO.id,
                    created,
                    2,
                    "",
                    DEMO.username,
                    token["name"],
                    model.name,
                    quota,
                    prompt,
                    completion,
                    max(1, (frt + completion * 25) // 1000),
                    int(is_stream),
                    1,
                    token["id"],
                    DEMO.group,
                    "127.0.0.1",
                    request_id,
                    json.dumps(other, separators=(",", ":")),
                )
            )
            total_quota += quota
    rows.append(
        (
            DEMO.id,
            start + 3600,
            1,
            "Top-up via redemption code: $500.00",
            DEMO.username,
            "",
            "",
            250_000_000,
            0,
            0,
            0,
            0,
            0,
            0,
            "",
            "",
            "",
            "",
        )
    )
    rows.sort(key=lambda r: int(str(r[1])))
    store.executemany(
        "INSERT INTO logs (user_id, created_at, type, content, username, token_name, model_name,"
        " quota, prompt_tokens, completion_tokens, use_time, is_stream, channel, token_id, grp,"
        " ip, request_id, other) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    consumed = sum(1 for r in rows if r[2] == 2)
    store.execute(
        "UPDATE users SET used_quota = ?, request_count = ? WHERE id = ?",
        (total_quota, consumed, DEMO.id),
    )
    store.execute("UPDATE tokens SET used_quota = ? WHERE id = ?", (total_quota, token["id"]))
