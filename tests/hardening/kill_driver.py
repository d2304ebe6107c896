"""The app in demo mode, minus the window, for the kill -9 suite: run as a subprocess.

``python -m tests.hardening.kill_driver HOME RUN`` starts what `bluesdesk.app` starts for
``--demo`` — the data folder, logging, settings, keyring, the built-in emulator as the "Demo
gateway" profile (`bluesdesk.app.DemoGateway`, 40 tokens/s), the database and `ChatService`
with its start-up `recover()` — then sends one long message in the one conversation and streams
the answer. Progress goes to stdout, one flushed line per step, so the parent knows what the
user had seen when it kills the process:

    READY <recovered>                    services up, earlier answers recovered
    STARTED <assistant id>               the answer row exists
    DELTA <monotonic time> <length>      text received so far (choice 0)
    DONE <state> <length>
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from bluesdesk.gateway import GatewayPool
from bluesdesk.logsetup import setup_logging
from bluesdesk.paths import Paths
from bluesdesk.secrets import KeyStore
from bluesdesk.services.chat import (
    ChatService,
    ReplyDelta,
    ReplyStarted,
    ReplyUpdate,
)
from bluesdesk.services.profiles import ProfileService
from bluesdesk.settings import SettingsStore
from bluesdesk.store import ConversationStore, Database

WORDS = 300  # about 15 s of streaming at the demo gateway's 40 tokens per second


def prompt(run: int) -> str:
    return f"echo: run {run} " + " ".join(f"w{run}x{i}" for i in range(WORDS))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(home: Path, run: int) -> None:
    # Imported here: the test imports `prompt` from this module and must not load Qt for it.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bluesdesk.app import DemoGateway

    paths = Paths.under(home)
    paths.ensure()
    setup_logging(paths.log_dir, debug=False)
    settings = SettingsStore(paths.settings_file)
    settings.load()
    keys = KeyStore()
    pool = GatewayPool()
    profiles = ProfileService(settings, keys, pool)
    demo = DemoGateway(profiles, keys)
    await demo.start()
    db = await Database.open(paths.db_file)

    async def client_for(profile_id: str) -> object:
        return await profiles.client(profiles.profile(profile_id) if profile_id else None)

    chat = ChatService(ConversationStore(db), client_for)  # type: ignore[arg-type]
    recovered = await chat.recover()
    say(f"READY {recovered}")
    conversations = await chat.store.list_conversations()
    conv = conversations[0] if conversations else None
    if conv is None:
        conv = await chat.new_conversation(model="gpt-4o-mini", api_style="openai")
    received = 0

    def listen(update: ReplyUpdate) -> None:
        nonlocal received
        if isinstance(update, ReplyStarted):
            say(f"STARTED {update.assistant.id}")
        elif isinstance(update, ReplyDelta) and update.text:
            received += len(update.text)
            say(f"DELTA {time.monotonic():.6f} {received}")

    final = await chat.send(conv.id, prompt(run), on_update=listen)
    say(f"DONE {final.state} {len(final.text)}")
    await pool.aclose()
    await db.close()
    demo.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
