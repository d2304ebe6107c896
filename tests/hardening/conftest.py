"""Fixtures for the hardening suites: a private emulator fleet (the integration one lives in
tests/integration and is not visible here)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    """A BluesMinds emulator at full speed with the per-key RPM out of the way."""
    server = EmulatorServer(
        EmulatorConfig(flavor=Flavor.BLUESMINDS, port=0, tokens_per_second=0, rpm=100_000)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _emu_faults_reset(request: pytest.FixtureRequest) -> Iterator[None]:
    """A fault armed by one test must never leak into the next."""
    yield
    if "emu" in request.fixturenames:
        request.getfixturevalue("emu").reset_faults()
