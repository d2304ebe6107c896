"""Composition root: builds every service once, explicitly, and hands them to the main window.

Paint first, then load: Paths → logging → SettingsStore → theme → KeyStore → GatewayPool →
ProfileService → the MainWindow shell, shown. After its first paint: Database and the pane
services (imported only then: they are most of the start-up cost), the demo emulator, the panes.
Shutdown runs in reverse: tasks, gateway clients, database, emulator.
No singletons: everything the UI uses arrives through `AppContext`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import qasync
from PySide6.QtWidgets import QApplication

from bluesdesk import __version__
from bluesdesk.core.gil import favour_gui_thread
from bluesdesk.core.heap import freeze_startup_heap
from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.errors import BluesdeskError, StoreError
from bluesdesk.gateway.http import GatewayClient, GatewayPool
from bluesdesk.logsetup import setup_logging
from bluesdesk.paths import Paths
from bluesdesk.secrets.keystore import KeyStore
from bluesdesk.services.profiles import ProfileService, new_profile_id
from bluesdesk.settings import SettingsStore
from bluesdesk.ui import icons
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.crash import CrashReporter
from bluesdesk.ui.main_window import MainWindow
from bluesdesk.ui.tasks import TaskRunner
from bluesdesk.ui.theme import ThemeManager

if TYPE_CHECKING:
    from bluesdesk.services.chat import ClientProvider
    from bluesdesk.store.db import Database

log = logging.getLogger(__name__)

DEMO_PROFILE_NAME = "Demo gateway"
SHUTDOWN_TIMEOUT_S = 3.0


class DemoGateway:
    """Runs the built-in emulator in this process and keeps a "Demo gateway" profile on it."""

    def __init__(self, profiles: ProfileService, keys: KeyStore) -> None:
        self.profiles = profiles
        self.keys = keys
        self.server: Any = None
        self.memory_notice = ""

    async def start(self) -> GatewayProfile:
        from bluesdesk.emulator import EmulatorConfig, EmulatorServer
        from bluesdesk.emulator.accounts import DEMO

        if self.server is None:
            server = EmulatorServer(EmulatorConfig(tokens_per_second=40))
            await asyncio.to_thread(server.start)  # binds and waits until it serves
            self.server = server
        if not await self.keys.check():
            self.keys.use_memory_only()
            self.memory_notice = QApplication.translate(
                "DemoGateway", "No system keyring: API keys are kept in memory for this run only"
            )
        existing = next((p for p in self.profiles.profiles() if p.demo), None)
        profile = GatewayProfile(
            id=existing.id if existing is not None else new_profile_id(),
            name=existing.name if existing is not None else DEMO_PROFILE_NAME,
            base_url=self.server.relay_url,
            management_url=self.server.base_url,
            kind=GatewayKind.BLUESMINDS,
            demo=True,
            rpm_limit=existing.rpm_limit if existing is not None else 0,
        )
        await self.profiles.save(profile, api_key=DEMO.api_key)
        await self.profiles.set_active(profile.id)
        log.info("demo gateway running at %s", self.server.base_url)
        return profile

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def _client_source(profiles: ProfileService) -> ClientProvider:
    """Chat asks for a client by profile id ("" or a deleted profile: the active one)."""

    async def client_for(profile_id: str) -> GatewayClient:
        return await profiles.client(profiles.profile(profile_id) if profile_id else None)

    return client_for


async def _load_services(ctx: AppContext, paths: Paths) -> Database | None:
    """Open the database and build the pane services into `ctx` (after the first paint).

    Without a usable database (disk full, unwritable folder) the app still runs: the console and
    the settings work, and the panes that keep data say why they cannot.
    """
    from bluesdesk.services.account import AccountService
    from bluesdesk.services.billing import ConsoleBilling
    from bluesdesk.services.catalog import CatalogService
    from bluesdesk.services.chat import ChatService, catalog_prices
    from bluesdesk.services.images import ImageService
    from bluesdesk.services.speech import SpeechService
    from bluesdesk.store.conversations import ConversationStore
    from bluesdesk.store.db import Database
    from bluesdesk.store.model_cache import ModelCache

    account = AccountService(ctx.profiles, ctx.keys)
    try:
        db = await Database.open(paths.db_file)
    except StoreError as exc:
        log.error("local database unavailable: %s", exc.user_message)
        ctx.account = account
        ctx.notify(
            QApplication.translate("app", "Local data unavailable: {0}").replace(
                "{0}", exc.describe()
            )
        )
        return None
    ctx.db = db
    # The catalog reads /api/user/models and the user's groups with the console login.
    catalog = CatalogService(ctx.profiles, ModelCache(db), sessions=account.session)
    # Billed costs of new-api gateways come from the usage log, read with the console login.
    chat = ChatService(
        ConversationStore(db),
        _client_source(ctx.profiles),
        price_for=catalog_prices(catalog),
        billing=ConsoleBilling(account),
    )
    await chat.recover()  # answers an earlier exit cut off now say "interrupted"
    ctx.account = account
    ctx.catalog = catalog
    ctx.chat = chat
    ctx.images = ImageService(db, paths.media_dir)
    ctx.speech = SpeechService(db, paths.media_dir)
    return db


async def _amain(
    app: QApplication, paths: Paths, args: argparse.Namespace, closed: asyncio.Future[None]
) -> int:
    """Show the window, load the rest, run until `closed` is set, then shut down in order."""
    settings_store = SettingsStore(paths.settings_file)
    settings = settings_store.load()
    # --theme is for this run only (README screenshots); the saved choice stays as it is.
    theme = ThemeManager(app, args.theme or settings.ui.theme)
    theme.apply()
    keys = KeyStore()
    pool = GatewayPool()
    profiles = ProfileService(settings_store, keys, pool)
    crash = CrashReporter()
    runner = TaskRunner(app, crash_handler=crash)
    ctx = AppContext(
        settings=settings_store,
        keys=keys,
        profiles=profiles,
        runner=runner,
        pool=pool,
        theme=theme,
    )
    demo = DemoGateway(profiles, keys)

    async def start_demo() -> None:
        await demo.start()
        if demo.memory_notice:
            ctx.notify(demo.memory_notice)

    ctx.start_demo = start_demo
    window: MainWindow | None = None
    db: Database | None = None
    demo_task: asyncio.Task[None] | None = None
    try:
        # --demo opens on the demo profile: no welcome screen while the emulator starts.
        window = MainWindow(ctx, theme, defer_panes=True, first_run=not args.demo)
        crash.parent = window
        if settings_store.last_error is not None:
            window.status.showMessage(settings_store.last_error.describe(), 15000)
        window.closed.connect(lambda: _release(closed))
        window.hold_close()  # closed for real once the services are down (see `finally`)
        window.show()
        await window.wait_painted()

        if args.demo:
            # The emulator binds in a thread while the panes are built here.
            demo_task = asyncio.ensure_future(start_demo())
        log.debug("window painted")
        db = await _load_services(ctx, paths)
        log.debug("services ready")
        window.status.watch_balance(ctx)  # needs the account service, built just now
        if demo_task is not None and args.screenshot is not None:
            await demo_task  # screenshots show the panes loaded from the demo gateway
        await window.load_panes()
        log.debug("panes built; %d start-up objects frozen", freeze_startup_heap())
        if demo_task is not None:
            await demo_task
            log.debug("demo gateway ready")
        if args.screenshot is not None:
            from bluesdesk.ui.screenshot import capture_panes

            # A dark set sits beside the light one: DIR/chat.png and DIR/chat-dark.png.
            suffix = "-dark" if args.theme == "dark" else ""
            problems = await capture_panes(window, Path(args.screenshot), suffix=suffix)
            window.close()
            for problem in problems:
                sys.stderr.write(f"bluesdesk --screenshot: {problem}\n")
            return 1 if problems else 0
        await closed
        return 0
    finally:
        if demo_task is not None and not demo_task.done():
            demo_task.cancel()  # start-up failed half-way
            await asyncio.wait([demo_task], timeout=SHUTDOWN_TIMEOUT_S)
        await runner.shutdown(SHUTDOWN_TIMEOUT_S)
        if ctx.chat is not None:
            await ctx.chat.close()  # a last try at answers a full disk refused
        await pool.aclose()
        if db is not None:
            await db.close()
        await asyncio.to_thread(demo.stop)
        if window is not None:
            window.release_close()
            window.close()


def _release(closed: asyncio.Future[None]) -> None:
    if not closed.done():
        closed.set_result(None)


def run(args: argparse.Namespace) -> int:
    paths = Paths.resolve(args.profile_dir)
    try:
        paths.ensure()
    except OSError as exc:  # an unwritable data folder: run, and say so, rather than not start
        sys.stderr.write(f"bluesdesk: cannot create the data folder {paths.root}: {exc}\n")
    if args.screenshot is not None:
        Path(args.screenshot).mkdir(parents=True, exist_ok=True)
    setup_logging(paths.log_dir, debug=args.debug)
    log.info("bluesdesk %s starting, data in %s", __version__, paths.root)
    favour_gui_thread()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("bluesdesk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("bluesdesk")
    app.setWindowIcon(icons.app_icon())
    # The window's `closed` signal ends the main coroutine, which then shuts services down in
    # order; letting Qt quit by itself would stop the loop under our feet.
    app.setQuitOnLastWindowClosed(False)

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    # qasync installs no asyncgen hooks; without them httpx's generators are finalised by the GC.
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    try:
        closed: asyncio.Future[None] = loop.create_future()
        main = loop.create_task(_amain(app, paths, args, closed), name="bluesdesk:main")
        try:
            code = loop.run_until_complete(main)
        except RuntimeError:
            if main.done():
                raise
            # Qt quit by itself (e.g. the session ended) before the window closed: run the
            # loop once more so that `main` shuts the services down in order.
            log.info("Qt quit before the window closed; shutting down")
            _release(closed)
            code = loop.run_until_complete(main)
        loop.run_until_complete(loop.shutdown_asyncgens())
    except BluesdeskError as exc:
        log.error("startup failed: %s", exc.user_message)
        sys.stderr.write(f"bluesdesk: {exc.describe()}\n")
        code = 1
    finally:
        loop.close()
    return code
