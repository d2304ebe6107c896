"""A scripted session for the secrets scan: run as a subprocess so that everything it prints can
be captured and searched.

``python -m tests.hardening.secrets_session HOME SECRETS_JSON SNAPSHOT`` signs in with a password
(and once with a wrong one), creates and reveals an API key and adopts it, chats, exports the
conversation and the usage logs into HOME, and triggers errors (401, 500, an error inside a
stream, a refused prompt) — with DEBUG logging to the log file and to stderr, and every error
shown on stdout as the UI would show it. The secrets it used are written to SECRETS_JSON (outside
HOME) for the parent to search for, and a copy of HOME taken while everything is still open
(the database's WAL included) to SNAPSHOT.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sys
from pathlib import Path

import keyring

from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.errors import BluesdeskError
from bluesdesk.gateway.console import TokenSpec
from bluesdesk.logsetup import setup_logging, shutdown_logging
from bluesdesk.services.account import logs_csv
from bluesdesk.services.chat import ReplyFinished, ReplyUpdate
from bluesdesk.services.images import ImageRequest
from tests.hardening.rig import open_rig
from tests.helpers.memkeyring import MemoryKeyring

WRONG_PASSWORD = "Wr0ng-Passw0rd-for-the-scan"
log = logging.getLogger("secrets_session")


def show(what: str, error: BaseException) -> None:
    """What a pane would put in front of the user."""
    text = error.describe() if isinstance(error, BluesdeskError) else str(error)
    sys.stdout.write(f"[{what}] {type(error).__name__}: {text}\n")
    log.warning("%s failed: %r", what, error, exc_info=error)


async def main(home: Path, secrets: dict[str, str], snapshot: Path) -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    server = EmulatorServer(EmulatorConfig(flavor=Flavor.BLUESMINDS, port=0, tokens_per_second=0))
    server.start()
    policy = RetryPolicy(max_retries=1, base_delay=0.0, max_delay=0.0, jitter=0.0)
    setup_logging(home / "logs", debug=True)
    rig = await open_rig(home, server.relay_url, policy=policy)
    revealed = ""
    try:
        try:
            await rig.account.sign_in(DEMO.username, WRONG_PASSWORD)
        except BluesdeskError as exc:
            show("sign-in with a wrong password", exc)
        assert await rig.account.sign_in(DEMO.username, DEMO.password)
        sys.stdout.write(f"signed in as {rig.account.user()!r}\n")
        token = await rig.account.create_token(TokenSpec(name="scan-key"))
        assert token is not None
        sys.stdout.write(f"created {token!r}\n")
        revealed = await rig.account.use_key(token.id)
        sys.stdout.write(f"profile now {rig.profile!r}\n")

        conv = await rig.chat.new_conversation(model="gpt-4o-mini", api_style="openai")
        answer = await rig.chat.send(conv.id, "echo: hello from the secrets scan")
        sys.stdout.write(f"answer {answer!r}\n")

        def listen(update: ReplyUpdate) -> None:
            if isinstance(update, ReplyFinished) and update.error is not None:
                show("chat", update.error)

        for fault in ("401", "stream_error", "500"):
            server.arm_fault(fault, 5, path_prefix="/v1/chat/completions")
            await rig.chat.send(conv.id, f"echo: chat under a {fault}", on_update=listen)
            server.reset_faults()
        client = await rig.profiles.client()
        await rig.images.generate(
            client, ImageRequest(model="dall-e-2", prompt="A kept picture", size="256x256")
        )
        for prompt in ("Something forbidden", "A plain picture"):
            server.arm_fault(
                "500", 5, path_prefix="/v1/images/generations"
            ) if "plain" in prompt else None
            try:
                await rig.images.generate(client, ImageRequest(model="dall-e-3", prompt=prompt))
            except BluesdeskError as exc:
                show("image", exc)
            server.reset_faults()

        exports = home / "exports"
        exports.mkdir()
        (exports / "chat.json").write_text(await rig.chat.export_json(conv.id))
        (exports / "chat.md").write_text(await rig.chat.export_markdown(conv.id))
        entries = await rig.account.all_logs()
        (exports / "usage.csv").write_text(logs_csv(entries, None))
        sys.stdout.write(f"exported {len(entries)} log rows\n")
        # The folder as it is while the app runs (the database's WAL not yet checkpointed).
        await asyncio.to_thread(shutil.copytree, home, snapshot)
    finally:
        secrets.update(
            {
                "demo api key": DEMO.api_key,
                "revealed api key": revealed,
                "password": DEMO.password,
                "wrong password": WRONG_PASSWORD,
            }
        )
        for (_service, name), value in backend.store.items():
            secrets[f"keyring {name}"] = value
        await rig.close()
        server.stop()
        shutdown_logging()


if __name__ == "__main__":
    used: dict[str, str] = {}
    try:
        asyncio.run(main(Path(sys.argv[1]), used, Path(sys.argv[3])))
    finally:
        Path(sys.argv[2]).write_text(json.dumps(used))
