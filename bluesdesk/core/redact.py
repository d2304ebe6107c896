"""Remove secrets from any text that leaves the process (logs, errors, exports, dialogs)."""

from __future__ import annotations

import re

# API keys: sk- followed by key characters; new-api keys are 48 chars, others vary.
_SK_KEY = re.compile(r"sk-[A-Za-z0-9_\-]{6,}")
# Authorization header values, whatever the scheme (session tokens are not sk- prefixed).
_AUTH_HEADER = re.compile(
    r"(?i)((?:authorization|x-api-key|x-goog-api-key|new-api-access-token)\s*[:=]\s*)"
    r"(?:Bearer\s+)?[^\s,;\"']+"
)
_QUERY_KEY = re.compile(r"(?i)([?&](?:key|access_token|token)=)[^&\s\"']+")
_JSON_SECRET = re.compile(
    r"(?i)(\"(?:password|access_token|api_key|key|token|secret)\"\s*:\s*\")[^\"]*(\")"
)

REDACTED = "[redacted]"


def redact(text: str, extra_secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Return `text` with API keys, auth headers and known secret values replaced.

    `extra_secrets` are exact values (session tokens, passwords) known to the caller.
    """
    for secret in extra_secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _SK_KEY.sub("sk-" + REDACTED, text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _QUERY_KEY.sub(lambda m: m.group(1) + REDACTED, text)
    return _JSON_SECRET.sub(lambda m: m.group(1) + REDACTED + m.group(2), text)


_registered: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret seen at run time so that `redact_known` removes it everywhere."""
    if value and len(value) >= 8:
        _registered.add(value)


def forget_secret(value: str) -> None:
    _registered.discard(value)


def redact_known(text: str) -> str:
    """`redact` plus every secret registered in this process (keys, session tokens)."""
    return redact(text, tuple(_registered))
