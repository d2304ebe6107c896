"""README screenshots of a real conversation: markdown with a table and code, and a tool call.

Runs the app's own pieces (the demo gateway, the services, the main window) on a throw-away data
folder, types two messages into the Chat pane as a user would (built-in tools switched on in the
parameters drawer), waits for each answer to finish, and grabs the window in the light and the
dark theme:

    .venv/bin/python scripts/readme_chat_screenshots.py docs/screenshots

writes `chat-conversation.png` and `chat-conversation-dark.png`. Offscreen works
(`QT_QPA_PLATFORM=offscreen`); fonts look best under Xvfb (`xvfb-run -a`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from bluesdesk.app import DemoGateway, _load_services
from bluesdesk.gateway.http import GatewayPool
from bluesdesk.paths import Paths
from bluesdesk.secrets.keystore import KeyStore
from bluesdesk.services.profiles import ProfileService
from bluesdesk.settings import SettingsStore
from bluesdesk.ui.chat.pane import ChatPane
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.main_window import MainWindow
from bluesdesk.ui.tasks import TaskRunner
from bluesdesk.ui.theme import ThemeManager

MESSAGES = (
    "Compare three ways to cache API answers, with an example",
    "What time is it now?",
)
SIZE = (1180, 1000)
ANSWER_TIMEOUT_S = 60.0


async def _until(condition: object, timeout: float) -> None:
    """Poll a cheap condition on the event loop (a script: nothing to wait on but the state)."""
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the answer did not finish in time")
        await asyncio.sleep(0.05)


async def shoot(app: QApplication, out_dir: Path, home: Path) -> None:
    paths = Paths.resolve(home)
    paths.ensure()
    store = SettingsStore(paths.settings_file)
    store.load()
    theme = ThemeManager(app, "light")
    theme.apply()
    keys = KeyStore()
    pool = GatewayPool()
    profiles = ProfileService(store, keys, pool)
    runner = TaskRunner(app)
    ctx = AppContext(
        settings=store, keys=keys, profiles=profiles, runner=runner, pool=pool, theme=theme
    )
    demo = DemoGateway(profiles, keys)
    await demo.start()
    db = await _load_services(ctx, paths)
    window = MainWindow(ctx, theme, first_run=False)
    try:
        window.resize(*SIZE)
        window.show()
        await window.load_panes()
        window.show_pane("chat", remember=False)
        pane = window.panes["chat"]
        assert isinstance(pane, ChatPane)
        await _until(lambda: pane.model_box.count() > 0, 20)
        controller = pane.controller
        assert controller is not None
        pane.drawer.tools.setChecked(True)
        for text in MESSAGES:
            pane.composer.edit.setPlainText(text)
            pane.composer.send_button.click()
            await _until(lambda: controller.busy, 10)
            await _until(lambda: not controller.busy, ANSWER_TIMEOUT_S)
        pane.drawer.hide()
        for name, preference in (
            ("chat-conversation", "light"),
            ("chat-conversation-dark", "dark"),
        ):
            theme.set_preference(preference)
            await asyncio.sleep(0.3)  # let the re-styled transcript lay out and paint
            pane.transcript.scroll_to_end()
            await asyncio.sleep(0.1)
            path = out_dir / f"{name}.png"
            if not window.grab().save(str(path), "PNG"):
                raise OSError(f"could not write {path}")
            sys.stdout.write(f"{path}\n")
    finally:
        await runner.shutdown(5.0)
        await pool.aclose()
        if db is not None:
            await db.close()
        await asyncio.to_thread(demo.stop)
        window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="bluesdesk-shots-") as home:
        try:
            loop.run_until_complete(shoot(app, args.out_dir, Path(home)))
        finally:
            loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
