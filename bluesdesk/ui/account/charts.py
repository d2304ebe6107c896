"""Usage charts (QtCharts): spend and tokens per day, and the top models, for 7 or 30 days."""

from __future__ import annotations

import math
from datetime import datetime

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.services.account import UsageSummary

RANGE_DAYS = (7, 30)


def money(quota: int, settings: QuotaSettings | None) -> float:
    """Quota units in the display unit (raw units when the gateway's settings are unknown)."""
    if settings is None:
        return float(quota)
    return settings.convert(quota / settings.quota_per_unit)


def money_format(values: list[float], ticks: int) -> str:
    """A label format with enough decimals that neighbouring ticks differ (tiny spends, such
    as a few test calls, would otherwise be labelled 0.00 all the way up)."""
    top = max(values, default=0.0) * 1.1
    if top <= 0:
        return "%.2f"
    step = top / max(1, ticks - 1)
    decimals = max(2, min(6, math.ceil(-math.log10(step)) + 1))
    return f"%.{decimals}f"


def _chart(title: str) -> tuple[QChart, QChartView]:
    chart = QChart()
    chart.setTitle(title)
    chart.legend().hide()
    chart.setBackgroundVisible(False)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(180)
    view.setStyleSheet("background: transparent")
    return chart, view


class UsageCharts(QWidget):
    """Three charts fed by `show_summary`; `days_changed(int)` asks the pane for a new range."""

    days_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary: UsageSummary | None = None
        self.range_combo = QComboBox()
        for days in RANGE_DAYS:
            self.range_combo.addItem(self.tr("Last {0} days").format(days), days)
        self.range_combo.currentIndexChanged.connect(lambda *_: self.days_changed.emit(self.days))
        self.source_label = QLabel()
        self.source_label.setObjectName("muted")
        heading = QLabel(self.tr("Usage"))
        heading.setObjectName("emptyTitle")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addWidget(self.source_label, 1)
        top.addWidget(self.range_combo)

        self.spend_chart, spend_view = _chart(self.tr("Spend per day"))
        self.tokens_chart, tokens_view = _chart(self.tr("Tokens per day"))
        self.models_chart, models_view = _chart(self.tr("Top models by spend"))
        grid = QGridLayout()
        grid.addWidget(spend_view, 0, 0)
        grid.addWidget(tokens_view, 0, 1)
        grid.addWidget(models_view, 0, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(grid, 1)

    @property
    def days(self) -> int:
        return int(self.range_combo.currentData() or RANGE_DAYS[0])

    def show_summary(self, summary: UsageSummary, settings: QuotaSettings | None) -> None:
        self.summary = summary
        # Qt's axis label format mangles non-ASCII symbols: the unit goes in the title.
        unit = (settings.symbol or "quota") if settings is not None else "quota"
        self.spend_chart.setTitle(self.tr("Spend per day ({0})").format(unit))
        self.models_chart.setTitle(self.tr("Top models by spend ({0})").format(unit))
        step = 1 if len(summary.days) <= 7 else 5  # label every 5th day on a month
        labels = [
            datetime.fromtimestamp(d.day).strftime("%d") if i % step == 0 else ""
            for i, d in enumerate(summary.days)
        ]
        # Empty labels must still be distinct categories.
        labels = [label or " " * (i + 1) for i, label in enumerate(labels)]
        spend = [money(d.quota, settings) for d in summary.days]
        self._bars(self.spend_chart, labels, spend, money_format(spend, 4))
        self._bars(self.tokens_chart, labels, [float(d.tokens) for d in summary.days], "%.0f")
        top = [money(m.quota, settings) for m in summary.top_models]
        self._top_models(summary, settings, money_format(top, 3))
        source = {
            "data": self.tr("from the gateway's usage data"),
            "logs": self.tr("summed from your logs (the gateway's data export is off)"),
        }.get(summary.source, "")
        if summary.truncated:
            source += self.tr(" — partial, too many entries")
        self.source_label.setText(source)

    @staticmethod
    def _reset(chart: QChart) -> None:
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)

    def _bars(self, chart: QChart, labels: list[str], values: list[float], fmt: str) -> None:
        self._reset(chart)
        bars = QBarSet("")
        bars.append(values)
        series = QBarSeries()
        series.append(bars)
        chart.addSeries(series)
        x_axis = QBarCategoryAxis()
        x_axis.append(labels)
        y_axis = QValueAxis()
        y_axis.setLabelFormat(fmt)
        y_axis.setRange(0.0, max(values, default=0.0) * 1.1 or 1.0)
        y_axis.setTickCount(4)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)

    def _top_models(self, summary: UsageSummary, settings: QuotaSettings | None, fmt: str) -> None:
        chart = self.models_chart
        self._reset(chart)
        models = list(reversed(summary.top_models))  # biggest on top
        if not models:
            return
        bars = QBarSet("")
        bars.append([money(m.quota, settings) for m in models])
        series = QHorizontalBarSeries()
        series.append(bars)
        chart.addSeries(series)
        y_axis = QBarCategoryAxis()
        y_axis.append([m.model for m in models])
        x_axis = QValueAxis()
        x_axis.setLabelFormat(fmt)
        x_axis.setTickCount(3)
        x_axis.setRange(0.0, max(money(m.quota, settings) for m in models) * 1.1 or 1.0)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(y_axis)
        series.attachAxis(x_axis)
