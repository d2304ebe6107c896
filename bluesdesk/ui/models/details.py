"""The Models pane's details panel: everything known about one model, and what to do with it."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.capabilities import Capability
from bluesdesk.core.catalog_model import CatalogModel, CatalogSnapshot
from bluesdesk.core.pricing import PriceKind, credit_view, format_price
from bluesdesk.ui.models.badges import LABELS, ordered
from bluesdesk.ui.models.table import UNKNOWN, context_text

# Which pane a model can be used in, by what it can do. No capabilities at all (an unknown
# model on a bare /v1/models gateway) leaves every button enabled: the user knows best.
USES: dict[str, frozenset[Capability]] = {
    "chat": frozenset({Capability.CHAT}),
    "images": frozenset({Capability.IMAGE_GENERATION}),
    "speech": frozenset({Capability.SPEECH, Capability.TRANSCRIPTION}),
}


class DetailsPanel(QFrame):
    """Signals:
    use_requested(str, str): "Use in …" pressed; the pane key and the model id.
    """

    use_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setMinimumWidth(240)
        self.model: CatalogModel | None = None

        self.title = QLabel()
        self.title.setObjectName("emptyTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("muted")
        self.subtitle.setWordWrap(True)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.copy_button = QPushButton(self.tr("Copy model id"))
        self.copy_button.clicked.connect(lambda *_: self.copy_id())
        self.use_buttons: dict[str, QPushButton] = {
            "chat": QPushButton(self.tr("Use in Chat")),
            "images": QPushButton(self.tr("Use in Images")),
            "speech": QPushButton(self.tr("Use in Speech")),
        }
        buttons = QVBoxLayout()  # stacked: the panel is narrow
        buttons.setSpacing(6)
        buttons.addWidget(self.copy_button)
        for key, button in self.use_buttons.items():
            button.clicked.connect(lambda *_, k=key: self._use(k))
            buttons.addWidget(button)

        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(14, 14, 14, 14)
        inner.setSpacing(8)
        inner.addWidget(self.title)
        inner.addWidget(self.subtitle)
        inner.addLayout(buttons)
        inner.addWidget(self.body)
        inner.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        content.setObjectName("detailsContent")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.addWidget(scroll)
        self.show_model(None, None, "")

    def show_model(
        self,
        model: CatalogModel | None,
        snapshot: CatalogSnapshot | None,
        key_group: str,
        *,
        credits: bool = False,
    ) -> None:
        """`credits`: also quote the price the BluesMinds way (base × multiplier = effective)."""
        self.model = model
        has = model is not None
        self.copy_button.setEnabled(has)
        for key, button in self.use_buttons.items():
            button.setEnabled(
                has and (not model.capabilities or bool(USES[key] & model.capabilities))  # type: ignore[union-attr]
            )
        if model is None:
            self.title.setText(self.tr("No model selected"))
            self.subtitle.setText(self.tr("Select a model to see its prices and details."))
            self.body.setText("")
            return
        self.title.setText(model.id)
        parts = [
            p
            for p in (model.display_name if model.display_name != model.id else "", model.vendor)
            if p
        ]
        self.subtitle.setText(" · ".join(parts))
        self.body.setText(describe(model, snapshot, key_group, credits=credits))

    def copy_id(self) -> None:
        if self.model is not None:
            QGuiApplication.clipboard().setText(self.model.id)

    def _use(self, key: str) -> None:
        if self.model is not None:
            self.use_requested.emit(key, self.model.id)


def describe(
    model: CatalogModel,
    snapshot: CatalogSnapshot | None,
    key_group: str,
    *,
    credits: bool = False,
) -> str:
    """The panel's rich text: metadata, prices per group (and in credits), endpoints."""
    e = html.escape
    rows: list[tuple[str, str]] = []
    if model.description:
        rows.append(("Description", e(model.description)))
    rows.append(("Vendor", e(model.vendor) or UNKNOWN))
    if model.vendor_icon:
        rows.append(("Vendor icon", e(model.vendor_icon)))
    if model.owned_by and model.owned_by != model.vendor:
        rows.append(("Owned by", e(model.owned_by)))
    if model.created:
        day = dt.datetime.fromtimestamp(model.created, tz=dt.UTC).date().isoformat()
        rows.append(("Created", day))
    rows.append(("Context", context_text(model.context_length)))
    if model.max_output:
        rows.append(("Max output", context_text(model.max_output)))
    caps = ", ".join(LABELS[c] for c in ordered(model.capabilities))
    rows.append(("Capabilities", caps or UNKNOWN))
    if model.tags:
        rows.append(("Tags", e(", ".join(model.tags))))
    rows.append(("Groups", e(", ".join(model.groups)) or UNKNOWN))
    rows.append(("Callable with your key", "yes" if model.available else "no"))
    rows.append(("Listed by", e(", ".join(sorted(model.sources)))))
    text = _table(rows)
    text += "<h4>Prices per group</h4>" + _prices(model, snapshot, key_group)
    if credits:
        quotes = credit_quotes(model, snapshot, key_group)
        if quotes:
            text += "<h4>In credits</h4>" + quotes
    text += "<h4>Endpoints</h4>" + _endpoints(model, snapshot)
    return text


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td style='padding:2px 10px 2px 0;color:#9ca3af'>{k}</td><td>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table cellspacing='0'>{cells}</table>"


def _prices(model: CatalogModel, snapshot: CatalogSnapshot | None, key_group: str) -> str:
    if snapshot is None or snapshot.settings is None or model.pricing is None:
        return "<p>Price unknown: the gateway does not publish it.</p>"
    settings = snapshot.settings
    prices = snapshot.prices(model.id)
    if not prices:
        return "<p>Not priced in any group the gateway lists.</p>"
    per_request = model.pricing.kind is PriceKind.PER_REQUEST
    # One wrapping paragraph per group: a table would not fit the narrow panel.
    lines = []
    for price in prices:
        text = format_price(price, settings)
        name = f"<b>{html.escape(price.group)}</b> ×{price.group_ratio:g}"
        if price.group == key_group:
            name += " (your key)"
        if per_request:
            amounts = f"{text.per_request} per request"
        else:
            amounts = f"{text.input} in · {text.output} out"
            if text.cached:
                amounts += f" · {text.cached} cached"
        lines.append(f"<p style='margin:2px 0'>{name}<br>{amounts}</p>")
    unit = (
        ""
        if per_request
        else "<p style='color:#9ca3af'>Per 1M tokens, in the gateway's currency.</p>"
    )
    return "".join(lines) + unit


def credit_quotes(model: CatalogModel, snapshot: CatalogSnapshot | None, key_group: str) -> str:
    """One "base × multiplier = effective" line per group, as BluesMinds quotes prices: the
    token group's multiplier applied to the base price. Empty when the price is unknown."""
    if snapshot is None or snapshot.settings is None or model.pricing is None:
        return ""
    lines = []
    for price in snapshot.prices(model.id):
        view = credit_view(model.pricing, price.group_ratio, snapshot.settings)
        name = f"<b>{html.escape(price.group)}</b>"
        if price.group == key_group:
            name += " (your key)"
        lines.append(f"<p style='margin:2px 0'>{name}<br>{html.escape(view.equation())}</p>")
    return "".join(lines)


def _endpoints(model: CatalogModel, snapshot: CatalogSnapshot | None) -> str:
    if not model.endpoint_types:
        return "<p>Not stated by the gateway.</p>"
    known = snapshot.endpoints if snapshot is not None else {}
    rows = []
    for kind in model.endpoint_types:
        method, path = known.get(kind, ("", ""))
        where = f"<code>{html.escape(method)} {html.escape(path)}</code>" if path else ""
        rows.append((html.escape(kind), where))
    return _table(rows)
