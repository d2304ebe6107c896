"""Emulator fixtures for the integration suites: real servers on 127.0.0.1, one per module.

`emulators.get(flavor)` starts a server streaming at full speed, with the per-key RPM raised out
of the way (tests of the gateway's own RPM limit start their own with `start_emulator`). Faults,
rate windows and request counters are reset after every test that used the fleet.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor

# High enough that no suite trips the emulator's per-key limit by accident.
TEST_RPM = 100_000


def start_emulator(flavor: Flavor, **overrides: Any) -> EmulatorServer:
    rpm = overrides.pop("rpm", TEST_RPM)
    server = EmulatorServer(
        EmulatorConfig(flavor=flavor, port=0, tokens_per_second=0, rpm=rpm, **overrides)
    )
    server.start()
    return server


class EmulatorFleet:
    """Servers of each flavor, started on first use and shared by one test module."""

    def __init__(self) -> None:
        self.running: dict[Flavor, EmulatorServer] = {}

    def get(self, flavor: Flavor) -> EmulatorServer:
        if flavor not in self.running:
            self.running[flavor] = start_emulator(flavor)
        return self.running[flavor]

    def reset(self) -> None:
        for server in self.running.values():
            server.reset_faults()

    def stop(self) -> None:
        for server in self.running.values():
            server.stop()
        self.running.clear()


@pytest.fixture(scope="module")
def emulators() -> Iterator[EmulatorFleet]:
    fleet = EmulatorFleet()
    try:
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture(autouse=True)
def _reset_emulator_fleet(request: pytest.FixtureRequest) -> Iterator[None]:
    """A fault armed by one test must never leak into the next."""
    yield
    if "emulators" in request.fixturenames:
        request.getfixturevalue("emulators").reset()
