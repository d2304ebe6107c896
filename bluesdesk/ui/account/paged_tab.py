"""What the Account pane's paged tabs (Logs, Channels) share: the service, the pane's task
runner, the page number with its ‹ › buttons and "Page 2 of 7" label, and search/reload.

A tab sets `task` (the runner's name for a page load, which also picks the pane's wording on a
403/404) and `page_size`, builds its widgets in `_build()`, implements `load()`, and calls
`show_page(found)` when a page came.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.gateway.console import Page
from bluesdesk.services.account import AccountService

Runner = Callable[[Awaitable[Any], str], None]


class PagedTab(QWidget):
    task = "page"
    page_size = 20

    def __init__(
        self,
        account: AccountService,
        run: Runner,
        settings: Callable[[], QuotaSettings | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.account = account
        self._run = run
        self._settings = settings
        self.page = 1
        self.prev_button = QPushButton("‹")
        self.prev_button.setToolTip(self.tr("Previous page"))
        self.prev_button.clicked.connect(lambda *_: self.go_page(self.page - 1))
        self.next_button = QPushButton("›")
        self.next_button.setToolTip(self.tr("Next page"))
        self.next_button.clicked.connect(lambda *_: self.go_page(self.page + 1))
        self.page_label = QLabel()
        self.page_label.setObjectName("muted")
        self._build()

    def _build(self) -> None:
        """The tab's own widgets (the paging ones above exist by then)."""

    def search(self) -> None:
        self.page = 1
        self.reload()

    def go_page(self, page: int) -> None:
        self.page = max(1, page)
        self.reload()

    def reload(self) -> None:
        self._run(self.load(), self.task)

    async def load(self) -> None:
        raise NotImplementedError

    def show_page(self, found: Page[Any]) -> None:
        """The page label and the ‹ › buttons for the page just shown."""
        pages = f" of {max(1, (found.total - 1) // self.page_size + 1)}" if found.total else ""
        self.page_label.setText(self.tr("Page {0}{1}").format(self.page, pages))
        self.prev_button.setEnabled(self.page > 1)
        self.next_button.setEnabled(found.has_next)
