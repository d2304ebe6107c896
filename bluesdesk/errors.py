"""The one error tree of bluesdesk. No Qt, no httpx: every layer can raise and catch these.

::

    BluesdeskError (.user_message, .hint)
    ├─ GatewayError (.profile, .request_id)
    │  ├─ ConnectionFailed
    │  │  └─ TimedOut
    │  ├─ StatusError (.status, .body_excerpt, .code)
    │  │  ├─ BadRequest 400 ─ AuthFailed 401 ─ Forbidden 403 ─ NotFound 404
    │  │  ├─ RateLimited 429 (.retry_after)
    │  │  └─ ServerError 5xx
    │  ├─ BadResponse (HTML page, wrong content type, malformed JSON or SSE)
    │  ├─ StreamInterrupted (.partial_text)
    │  ├─ StreamErrorEvent (an error object inside a 200 stream)
    │  └─ ConsoleRejected (new-api `success:false`)
    ├─ StoreError
    │  ├─ StoreUnavailable (disk full, read-only, locked)
    │  ├─ StoreCorrupt
    │  └─ MigrationFailed
    ├─ SecretsError
    │  ├─ KeyringUnavailable
    │  └─ SecretMissing
    └─ SettingsError

Every message passes through `redact`, so an exception's text never carries a key.
Environment faults (network, disk) are these classes; anything else that escapes is a bug.
"""

from __future__ import annotations

from bluesdesk.core.redact import redact_known


class BluesdeskError(Exception):
    """Base of every expected error: `user_message` says what happened, `hint` what to do."""

    default_hint = ""

    def __init__(self, user_message: str, *, hint: str | None = None) -> None:
        self.user_message = redact_known(user_message)
        self.hint = redact_known(hint if hint is not None else self.default_hint)
        super().__init__(self.user_message)

    def __str__(self) -> str:
        return self.user_message

    def describe(self) -> str:
        """One text for the UI: message, hint and (for gateway errors) the request id."""
        parts = [self.user_message]
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


# ---- Gateway --------------------------------------------------------------------------------


class GatewayError(BluesdeskError):
    default_hint = "Check the gateway profile in Settings and try again."

    def __init__(
        self,
        user_message: str,
        *,
        hint: str | None = None,
        profile: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(user_message, hint=hint)
        self.profile = profile
        self.request_id = request_id

    def describe(self) -> str:
        text = super().describe()
        if self.request_id:
            text += f"\nRequest id: {self.request_id}"
        return text


class ConnectionFailed(GatewayError):
    default_hint = "Check your network connection and the gateway's base URL, then retry."


class TimedOut(ConnectionFailed):
    default_hint = "The gateway is slow or unreachable. Retry, or raise the timeout in Settings."


class StatusError(GatewayError):
    """The gateway answered with an HTTP error status."""

    def __init__(
        self,
        user_message: str,
        *,
        status: int,
        body_excerpt: str = "",
        code: str = "",
        hint: str | None = None,
        profile: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(user_message, hint=hint, profile=profile, request_id=request_id)
        self.status = status
        self.body_excerpt = redact_known(body_excerpt)
        self.code = code


class BadRequest(StatusError):
    default_hint = "The gateway rejected the request's parameters; check the model and settings."


class AuthFailed(StatusError):
    default_hint = (
        "The API key or session is invalid, expired or out of quota. Update it in Settings."
    )


class Forbidden(StatusError):
    default_hint = "Your key or account may not use this; check its group, model limits or quota."


class NotFound(StatusError):
    default_hint = "The model or route does not exist on this gateway; refresh the model list."


class RateLimited(StatusError):
    default_hint = "Too many requests. bluesdesk waits and retries; lower the RPM in Settings."

    def __init__(
        self,
        user_message: str,
        *,
        status: int = 429,
        retry_after: float | None = None,
        body_excerpt: str = "",
        code: str = "",
        hint: str | None = None,
        profile: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(
            user_message,
            status=status,
            body_excerpt=body_excerpt,
            code=code,
            hint=hint,
            profile=profile,
            request_id=request_id,
        )
        self.retry_after = retry_after


class ServerError(StatusError):
    default_hint = "The gateway or its upstream failed. Retry in a moment."


class BadResponse(GatewayError):
    default_hint = "The base URL may point at a web page instead of the API; check it in Settings."


class StreamInterrupted(GatewayError):
    default_hint = "The partial answer was kept. Regenerate to try again."

    def __init__(
        self,
        user_message: str,
        *,
        partial_text: str = "",
        hint: str | None = None,
        profile: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(user_message, hint=hint, profile=profile, request_id=request_id)
        self.partial_text = partial_text


class StreamErrorEvent(GatewayError):
    default_hint = "The gateway reported an error mid-answer; the partial answer was kept."

    def __init__(
        self,
        user_message: str,
        *,
        code: str = "",
        partial_text: str = "",
        hint: str | None = None,
        profile: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(user_message, hint=hint, profile=profile, request_id=request_id)
        self.code = code
        self.partial_text = partial_text


class ConsoleRejected(GatewayError):
    """new-api answered `success: false` (usually with HTTP 200)."""

    # The gateway's own reason is the message; this says what to do with it.
    default_hint = "Change what the gateway's message names, then try again."

    def __init__(
        self,
        user_message: str,
        *,
        status: int = 200,
        hint: str | None = None,
        profile: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(user_message, hint=hint, profile=profile, request_id=request_id)
        self.status = status


# ---- Store ----------------------------------------------------------------------------------


class StoreError(BluesdeskError):
    default_hint = "Your data was not changed."


class StoreUnavailable(StoreError):
    default_hint = "Free some disk space or check the data folder's permissions; bluesdesk retries."


class StoreCorrupt(StoreError):
    default_hint = "A backup copy is kept next to the database; see the log for its path."


class MigrationFailed(StoreError):
    default_hint = "The database was left as it was; a backup copy was made before the migration."


# ---- Secrets and settings -------------------------------------------------------------------


class SecretsError(BluesdeskError):
    pass


class KeyringUnavailable(SecretsError):
    default_hint = (
        "No usable system keyring was found. Keys can be kept in memory for this run only, "
        "or install and unlock a Secret Service keyring (e.g. gnome-keyring)."
    )


class SecretMissing(SecretsError):
    default_hint = "Enter the API key for this profile in Settings."


class SettingsError(BluesdeskError):
    default_hint = "Defaults were loaded; the unreadable file was kept as settings.json.bad."
