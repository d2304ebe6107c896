"""Fixtures for the service suites in this folder (the emulator fleet is tests/integration's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.services.account_rig import forget_account_keys


@pytest.fixture
def account_keyring(memory_keyring: Any) -> Iterator[Any]:
    """The in-memory keyring for an AccountService test; the users' keys are forgotten after."""
    yield memory_keyring
    forget_account_keys()
