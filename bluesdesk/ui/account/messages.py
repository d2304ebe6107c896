"""What the Account pane says when a console call fails.

Most errors speak for themselves (`describe()`: what happened, what to do). A 403 or 404
from a console route does not:
"The gateway refused access" leaves the user guessing. Here they name the action that failed
and what to do — 403: the account lacks the right, ask an admin; 404: the gateway has no such
route, so the base URL is wrong or the gateway is not new-api based. The pane's task names
(`run(coro, what)`) pick the action.
"""

from __future__ import annotations

from bluesdesk.errors import AuthFailed, BluesdeskError, Forbidden, NotFound

# Task name → what the user was doing, as "your account is not allowed to …" continues.
ACTIONS = {
    "restore": "read your account",
    "load": "read your account overview",
    "signin": "sign in to the console",
    "signout": "sign out",
    "tokens": "list API keys",
    "create": "create API keys",
    "edit": "edit API keys",
    "reveal": "reveal API keys",
    "use-key": "reveal API keys",
    "toggle": "enable or disable API keys",
    "delete": "delete API keys",
    "usage": "read usage data",
    "live": "read the live usage figures",
    "logs": "read the usage logs",
    "export": "export the usage logs",
    "channels": "list channels",
    "channel-test": "test channels",
    "channel-balance": "refresh channel balances",
    "channel-toggle": "enable or disable channels",
    "channel-delete": "delete channels",
}
DEFAULT_ACTION = "do this"


def action_of(what: str) -> str:
    return ACTIONS.get(what, DEFAULT_ACTION)


def error_text(exc: BluesdeskError, what: str) -> str:
    """The pane's message for `exc` raised by the task called `what`."""
    action = action_of(what)
    if isinstance(exc, Forbidden) and exc.status == 403:
        return (
            f"Your account is not allowed to {action} on this gateway (HTTP 403) — "
            "ask an admin of the gateway for access.\n"
            f"The gateway said: {exc.user_message}"
        )
    if isinstance(exc, NotFound):
        return (
            f"This gateway has no route to {action} (HTTP 404) — is the base URL right, "
            "and is it a new-api based gateway? Check the profile in Settings.\n"
            f"The gateway said: {exc.user_message}"
        )
    if isinstance(exc, AuthFailed) and what == "signin":
        # The generic 401 text talks about API keys; a password sign-in has none.
        return (
            "The gateway refused the sign-in (HTTP 401) — check the username and password, "
            "and that the profile's console address is right.\n"
            f"The gateway said: {exc.user_message}"
        )
    # The message says what happened, the hint what to do (and the request id, to quote).
    return exc.describe()
