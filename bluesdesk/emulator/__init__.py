"""The built-in gateway emulator: a real local BluesMinds / new-api server (demo mode and tests).

    from bluesdesk.emulator import EmulatorServer, EmulatorConfig, Flavor
    with EmulatorServer(EmulatorConfig(flavor=Flavor.BLUESMINDS)) as server:
        ... server.base_url, server.relay_url ...

No Qt imports here: the app starts it in a background thread for `--demo`.
"""

from __future__ import annotations

from bluesdesk.emulator.config import EmulatorConfig, Flavor
from bluesdesk.emulator.server import EmulatorServer

__all__ = ["EmulatorConfig", "EmulatorServer", "Flavor"]
