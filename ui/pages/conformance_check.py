"""One check of a run in detail: what it measured against the tolerance, as a chart, and a repro."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from portal.conformance.results import Status
from portal.i18n import _, format_list, format_number, format_significant
from ui.code_view import CodeView
from ui.labels import check_status
from ui.pages.conformance_run import duration_text
from ui.widgets import RecordTable, heading

if TYPE_CHECKING:
    from portal.conformance.results import CheckResult
    from portal.conformance.runner import RunOutcome
    from portal.conformance.tolerances import Tolerance

COLOURS = {
    Status.PASS: QColor("#2e7d32"),
    Status.QUALITY_WARNING: QColor("#e08600"),
    Status.FAIL: QColor("#c62828"),
    Status.ERROR: QColor("#c62828"),
    Status.NOT_SUPPORTED: QColor("#757575"),
}
OTHER_DTYPES = QColor("#90a4ae")


@dataclass(frozen=True)
class Bar:
    """One bar of the chart: a check of the same operation on one dtype, and its error ratio."""

    label: str
    ratio: float
    this: bool


def measured_label(key: str) -> str:
    """Words for the quantities the checks record; others are shown by their key."""
    return {
        "ratio": _("Error / limit"),
        "max_abs_error": _("Largest absolute error"),
        "max_rel_error": _("Largest relative error"),
        "max_ulp": _("Largest distance in ULP"),
    }.get(key, key)


def measured_rows(measured: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The measured values as (quantity, value) rows; nested tables become "a.b" rows."""
    rows: list[tuple[str, str]] = []
    for key, value in measured.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(measured_rows(value, f"{name}."))
        elif isinstance(value, bool) or not isinstance(value, int | float):
            rows.append((measured_label(name), str(value)))
        elif isinstance(value, int):
            rows.append((measured_label(name), format_number(value)))
        elif math.isfinite(value):
            rows.append((measured_label(name), format_significant(value)))
        else:
            rows.append((measured_label(name), str(value)))
    return rows


def split_dtype(check_id: str, dtypes: set[str]) -> tuple[str, str]:
    """("matmul", "float32") for "matmul.float32"; a check on no one dtype keeps its whole id."""
    stem, _dot, last = check_id.rpartition(".")
    return (stem, last) if stem and last in dtypes else (check_id, "")


def known_dtypes(outcome: RunOutcome) -> set[str]:
    """The dtypes a check id can end with: the table's and the backend's."""
    caps = outcome.capabilities.get("dtypes") or []
    return {dtype for _op, dtype in outcome.table.entries} | {str(d) for d in caps}


def tolerance_for(outcome: RunOutcome, check_id: str) -> tuple[str, Tolerance] | None:
    """The table entry a check is judged by: the op named in its id, on its dtype."""
    stem, dtype = split_dtype(check_id, known_dtypes(outcome))
    ops = {part.replace("-", "_") for part in stem.split(".")}
    for (op, entry_dtype), tolerance in sorted(outcome.table.entries.items()):
        if entry_dtype == dtype and op in ops:
            return op, tolerance
    return None


def tolerance_text(outcome: RunOutcome, result: CheckResult) -> str:
    """The limit used, and how the error ratio is judged against it."""
    found = tolerance_for(outcome, result.check)
    warn = format_significant(outcome.table.warn_at)
    if found is None:
        return _("No numeric tolerance: this check compares exactly (table v{version}).").format(
            version=outcome.table.version
        )
    op, tol = found
    parts = []
    if tol.ulp:
        parts.append(_("{n} ULP").format(n=format_significant(tol.ulp)))
    if tol.rtol or tol.atol:
        parts.append(f"rtol {tol.rtol:.3g}, atol {tol.atol:.3g}")
    limit = format_list(parts) if parts else "—"
    if tol.scale == "sqrt_n":
        limit = _("{limit}, times √n for a reduction over n elements").format(limit=limit)
    elif tol.scale == "n":
        limit = _("{limit}, times n for a reduction over n elements").format(limit=limit)
    return _(
        "{op} on {dtype}: {limit} (table v{version}). Error / limit up to {warn} passes; up to 1 "
        "passes with a warning; above fails, unless a waiver loosened the limit."
    ).format(
        op=op,
        dtype=split_dtype(result.check, known_dtypes(outcome))[1],
        limit=limit,
        version=outcome.table.version,
        warn=warn,
    )


def chart_bars(outcome: RunOutcome, result: CheckResult) -> list[Bar]:
    """The check and its siblings on other dtypes (same op), each with a measured ratio."""
    dtypes = known_dtypes(outcome)
    stem, _dtype = split_dtype(result.check, dtypes)
    bars = []
    for other in outcome.results:
        other_stem, other_dtype = split_dtype(other.check, dtypes)
        ratio = other.measured.get("ratio")
        if other_stem == stem and isinstance(ratio, int | float):
            bars.append(Bar(other_dtype or other.check, float(ratio), other.check == result.check))
    return bars if any(b.this for b in bars) else []


class RatioChart(QChartView):
    """Bars of error / limit per dtype, with the pass limit (1) and the warning limit drawn."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("ratioChart")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(240)
        self.bars: list[Bar] = []
        # Numbers and dtypes read left to right in every language, as in the code views.
        self.setLayoutDirection(Qt.LayoutDirection.LeftToRight)

    def plot(self, bars: list[Bar], *, status: Status, warn_at: float) -> None:
        """Draw `bars`; a ratio that is not finite is drawn to the top and called so."""
        self.bars = bars
        chart = QChart()
        chart.setBackgroundVisible(False)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setTitle(_("Measured error as a fraction of the limit"))
        text = self.palette().windowText().color()
        chart.setTitleBrush(text)
        chart.legend().setLabelColor(text)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        finite = [b.ratio for b in bars if math.isfinite(b.ratio)]
        top = max([1.15, *(r * 1.1 for r in finite)])
        this_set = QBarSet(_("This check"))
        this_set.setColor(COLOURS[status])
        this_set.setBorderColor(COLOURS[status])
        others = QBarSet(_("Other data types"))
        others.setColor(OTHER_DTYPES)
        others.setBorderColor(OTHER_DTYPES)
        categories = []
        for bar in bars:
            value = bar.ratio if math.isfinite(bar.ratio) else top
            this_set.append(value if bar.this else 0.0)
            others.append(0.0 if bar.this else value)
            shown = format_significant(bar.ratio) if math.isfinite(bar.ratio) else "∞"
            categories.append(f"{bar.label} ({shown})")
        series = QStackedBarSeries()
        series.append(this_set)
        if len(bars) > 1:
            series.append(others)
        series.setBarWidth(0.5)
        chart.addSeries(series)
        x_axis = QBarCategoryAxis()
        x_axis.append(categories)
        y_axis = QValueAxis()
        y_axis.setRange(0.0, top)
        y_axis.applyNiceNumbers()
        y_axis.setTitleText(_("error / limit"))
        y_axis.setLabelFormat("%.3g")
        for axis in (x_axis, y_axis):
            axis.setLabelsColor(text)
            axis.setTitleBrush(text)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)
        line_x = QValueAxis()  # the limit lines span the whole width, under the category axis
        line_x.setRange(-0.5, len(bars) - 0.5)
        line_x.setVisible(False)
        chart.addAxis(line_x, Qt.AlignmentFlag.AlignTop)
        for level, name, colour, dash in (
            (1.0, _("Limit"), COLOURS[Status.FAIL], Qt.PenStyle.DashLine),
            (
                warn_at,
                _("Warning level ({n})").format(n=format_significant(warn_at)),
                COLOURS[Status.QUALITY_WARNING],
                Qt.PenStyle.DotLine,
            ),
        ):
            line = QLineSeries()
            line.setName(name)
            line.append(-0.5, level)
            line.append(len(bars) - 0.5, level)
            pen = QPen(colour, 2)
            pen.setStyle(dash)
            line.setPen(pen)
            chart.addSeries(line)
            line.attachAxis(line_x)
            line.attachAxis(y_axis)
        old = self.chart()
        self.setChart(chart)
        if old is not None:
            old.deleteLater()


class CheckDetail(QWidget):
    """Drill-down of one check: message, measurements, tolerance, chart and repro snippet."""

    sig_back = Signal()
    """The user asked for the results table again."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("checkDetail")
        self.result: CheckResult | None = None
        self.back_action = QAction(_("All results"), self)
        self.back_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))  # Alt+Left: the wizard's
        self.back_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.back_action.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_ArrowBack))
        self.back_action.triggered.connect(self.sig_back)
        self.addAction(self.back_action)
        back = QToolButton()
        back.setDefaultAction(self.back_action)
        back.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.title = heading("", level=2)
        self.title.setObjectName("checkTitle")
        self.status = QLabel()
        self.status.setObjectName("checkStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.required = QLabel()
        self.duration = QLabel()
        self.tolerance = QLabel()
        self.tolerance.setObjectName("tolerance")
        self.tolerance.setWordWrap(True)
        self.measured = RecordTable([_("Quantity"), _("Value")])
        self.measured.setObjectName("measured")
        self.chart = RatioChart()
        self.no_chart = QLabel()
        self.no_chart.setObjectName("noChart")
        self.no_chart.setWordWrap(True)
        self.no_chart.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.repro_info = QLabel()
        self.repro_info.setObjectName("reproInfo")
        self.repro_info.setWordWrap(True)
        self.repro = CodeView(read_only=True)
        self.repro.setObjectName("repro")
        self.repro.setFixedHeight(self.repro.fontMetrics().lineSpacing() * 3 + 16)
        self.copy_button = QPushButton(_("&Copy snippet"))
        self.copy_button.setObjectName("copyRepro")
        self.copy_button.clicked.connect(self.copy_snippet)

        top = QHBoxLayout()
        top.addWidget(back)
        top.addWidget(self.title, 1)
        form = QFormLayout()
        form.addRow(_("Required"), self.required)
        form.addRow(_("Duration"), self.duration)
        form.addRow(_("Tolerance"), self.tolerance)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.measured, 1)
        middle = QHBoxLayout()
        middle.addLayout(left, 2)
        middle.addWidget(self.chart, 3)
        middle.addWidget(self.no_chart, 3)
        repro_row = QHBoxLayout()
        repro_row.addWidget(self.repro_info, 1)
        repro_row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(middle, 1)
        layout.addLayout(repro_row)
        layout.addWidget(self.repro)

    def show_check(self, outcome: RunOutcome, result: CheckResult) -> None:
        """Show `result` of `outcome`."""
        from portal.conformance.catalogue import repro

        self.result = result
        self.title.setText(result.check)
        self.status.setText(
            _("{status}: {message}").format(
                status=check_status(result.status), message=result.message
            )
        )
        self.required.setText(
            _("Yes: the run does not pass unless this check passes")
            if result.required
            else _("No: optional")
        )
        self.duration.setText(duration_text(result.duration_s))
        self.tolerance.setText(tolerance_text(outcome, result))
        rows = measured_rows(result.measured)
        self.measured.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.measured.set_rows([[(name, i), value] for i, (name, value) in enumerate(rows)])
        self.measured.setSortingEnabled(False)  # a few quantities, in the order measured
        self.measured.horizontalHeader().setSortIndicatorShown(False)
        self.measured.setVisible(bool(rows))
        bars = chart_bars(outcome, result)
        if bars:
            self.chart.plot(bars, status=result.status, warn_at=outcome.table.warn_at)
        else:
            self.no_chart.setText(_no_chart_reason(result))
        self.chart.setVisible(bool(bars))
        self.no_chart.setVisible(not bars)
        shown = result.repro or repro(
            outcome.backend, outcome.profile, result.check, seed=outcome.seed, shapes=[], dtype=""
        )
        details = [_("seed {seed}").format(seed=shown.seed)]
        if shown.shapes:
            details.append(
                _("input shapes {shapes}").format(
                    shapes=", ".join("×".join(str(n) for n in shape) for shape in shown.shapes)
                )
            )
        if shown.dtype:
            details.append(shown.dtype)
        self.repro_info.setText(
            _("Rerun this check alone, with the same inputs ({details}):").format(
                details=format_list(details)
            )
        )
        self.repro.setPlainText(shown.snippet)
        self.copy_button.setText(_("&Copy snippet"))
        self.status.setFocus()

    def copy_snippet(self) -> None:
        """Put the repro snippet on the clipboard."""
        QGuiApplication.clipboard().setText(self.repro.toPlainText())
        self.copy_button.setText(_("Copied"))


def _no_chart_reason(result: CheckResult) -> str:
    if result.status is Status.NOT_SUPPORTED:
        return _("Nothing was measured: the backend does not offer what this check needs.")
    if result.status is Status.ERROR:
        return _("Nothing was measured: the check did not finish (see the message above).")
    return _("This check compares exactly, so it has no error to chart against a tolerance.")
