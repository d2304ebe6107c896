"""`python -m bluesdesk.emulator`: serve the gateway emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from bluesdesk.emulator.accounts import SEED_ACCOUNTS
from bluesdesk.emulator.config import EmulatorConfig, Flavor
from bluesdesk.emulator.server import EmulatorServer


def parse_args(argv: list[str] | None = None) -> EmulatorConfig:
    parser = argparse.ArgumentParser(
        prog="python -m bluesdesk.emulator",
        description="A local BluesMinds / new-api gateway emulator (127.0.0.1 only).",
    )
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument("--flavor", choices=[f.value for f in Flavor], default=Flavor.BLUESMINDS)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="keep state in SQLite here (default: in memory)"
    )
    parser.add_argument("--rpm", type=int, default=0, help="per-key requests per minute")
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=40.0,
        help="streaming pace; 0 = as fast as possible",
    )
    parser.add_argument(
        "--legacy", action="store_true", help="serve old new-api shapes (0-based p, bare arrays)"
    )
    args = parser.parse_args(argv)
    return EmulatorConfig(
        flavor=Flavor(args.flavor),
        port=args.port,
        data_dir=args.data_dir,
        rpm=args.rpm,
        tokens_per_second=args.tokens_per_second,
        legacy=args.legacy,
    )


def banner(server: EmulatorServer) -> str:
    config = server.config
    lines = [
        server.base_url,
        f"flavor: {config.flavor.value}   relay: {server.relay_url}   "
        f"rpm: {config.effective_rpm or 'unlimited'}   "
        f"data: {config.data_dir or 'in memory'}",
        "accounts (username / password / API key):",
    ]
    for acc in SEED_ACCOUNTS:
        extra = f"   2FA code {acc.twofa_code}" if acc.twofa_code else ""
        lines.append(f"  {acc.username:<7} / {acc.password:<16} / {acc.api_key}{extra}")
    lines.append("Ctrl-C to stop.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    server = EmulatorServer(config)
    server.start()
    print(banner(server), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
