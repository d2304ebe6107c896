"""The app's services wired as `bluesdesk.app` wires them, against an emulator, without Qt.

Used by the fault matrix and the secrets scan: one data folder (settings, database, media, logs),
the real `ProfileService` / `GatewayPool` / `KeyStore` (over whatever keyring the test installed),
and each pane's main action as one coroutine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.errors import BluesdeskError
from bluesdesk.gateway import GatewayPool
from bluesdesk.paths import Paths
from bluesdesk.secrets import KeyStore
from bluesdesk.services.account import AccountService
from bluesdesk.services.catalog import CatalogService
from bluesdesk.services.chat import ChatService, ReplyFinished, ReplyUpdate, catalog_prices
from bluesdesk.services.images import ImageRequest, ImageService
from bluesdesk.services.profiles import ProfileService
from bluesdesk.services.speech import SpeechRequest, SpeechService
from bluesdesk.settings import SettingsStore
from bluesdesk.store import ConversationStore, Database, ModelCache

CHAT_PROMPT = "echo: " + " ".join(f"word{i}" for i in range(60))


@dataclass
class Rig:
    paths: Paths
    profile: GatewayProfile
    pool: GatewayPool
    profiles: ProfileService
    db: Database
    chat: ChatService
    images: ImageService
    speech: SpeechService
    catalog: CatalogService
    account: AccountService
    finished: list[ReplyFinished] = field(default_factory=list)

    async def close(self) -> None:
        await self.pool.aclose()
        await self.db.close()


async def open_rig(
    root: Path,
    relay_url: str,
    *,
    policy: RetryPolicy,
    timeout_s: float = 10.0,
    api_key: str = DEMO.api_key,
) -> Rig:
    paths = Paths.under(root)
    paths.ensure()
    settings = SettingsStore(paths.settings_file)
    settings.load()
    keys = KeyStore()
    pool = GatewayPool(policy=policy)
    profiles = ProfileService(settings, keys, pool)
    profile = GatewayProfile(
        id="p1",
        name="Emulator",
        base_url=relay_url,
        kind=GatewayKind.BLUESMINDS,
        timeout_s=timeout_s,
    )
    await profiles.save(profile, api_key)
    await profiles.set_active(profile.id)
    db = await Database.open(paths.db_file)
    account = AccountService(profiles, keys)
    catalog = CatalogService(profiles, ModelCache(db), sessions=account.session)

    async def client_for(profile_id: str) -> Any:
        return await profiles.client(profiles.profile(profile_id) if profile_id else None)

    chat = ChatService(ConversationStore(db), client_for, price_for=catalog_prices(catalog))
    await chat.recover()
    return Rig(
        paths=paths,
        profile=profile,
        pool=pool,
        profiles=profiles,
        db=db,
        chat=chat,
        images=ImageService(db, paths.media_dir),
        speech=SpeechService(db, paths.media_dir),
        catalog=catalog,
        account=account,
    )


# ---- each pane's main action: returns what the user would be shown (or raises) ---------------


async def chat_action(rig: Rig) -> Any:
    conv = await rig.chat.new_conversation(model="gpt-4o-mini", api_style="openai")

    def listen(update: ReplyUpdate) -> None:
        if isinstance(update, ReplyFinished):
            rig.finished.append(update)

    final = await rig.chat.send(conv.id, CHAT_PROMPT, on_update=listen)
    error = rig.finished[-1].error if rig.finished else None
    if error is not None:
        raise ChatFailed(final, error)
    return final


class ChatFailed(Exception):
    """Chat never raises gateway errors; the test harness lifts them out for the matrix."""

    def __init__(self, message: Any, error: BluesdeskError) -> None:
        super().__init__(error.user_message)
        self.message = message
        self.error = error


async def image_action(rig: Rig) -> Any:
    client = await rig.profiles.client()
    return await rig.images.generate(
        client, ImageRequest(model="dall-e-2", prompt="A lighthouse at dusk", size="256x256")
    )


async def speech_action(rig: Rig) -> Any:
    client = await rig.profiles.client()
    return await rig.speech.synthesize(
        client, SpeechRequest(model="tts-1", voice="nova", text="Hello there.", format="wav")
    )


async def models_action(rig: Rig) -> Any:
    return await rig.catalog.refresh(rig.profile)


async def sign_in_action(rig: Rig) -> Any:
    return await rig.account.sign_in(DEMO.username, DEMO.password)


async def tokens_action(rig: Rig) -> Any:
    return await rig.account.tokens()


Action = Callable[[Rig], Awaitable[Any]]
ACTIONS: dict[str, tuple[Action, str]] = {
    # name: (action, the emulator path its main request goes to)
    "chat stream": (chat_action, "/v1/chat/completions"),
    "image": (image_action, "/v1/images/generations"),
    "speech": (speech_action, "/v1/audio/speech"),
    "model refresh": (models_action, "/v1/models"),
    "sign-in": (sign_in_action, "/api/user/login"),
    "token list": (tokens_action, "/api/token/"),
}
