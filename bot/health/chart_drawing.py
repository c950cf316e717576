"""A health chart drawn as a PNG with matplotlib's Agg canvas.

Each drawing gets a ``Figure`` of its own on an Agg canvas: pyplot is never imported, so no
global registry keeps figures alive (memory stays flat across renders) and no GUI backend is
ever picked. matplotlib doesn't promise thread safety, so drawings take turns behind a lock;
drawing is CPU work under the GIL, so taking turns costs no throughput.
"""

from __future__ import annotations

import io
import threading

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.health.charts import Chart, Series, day_label

# 960 x 480 pixels: Slack shows an image block about half as wide, so it stays sharp on
# high-density screens and its 8.5-point labels read like 11-pixel text.
WIDTH_INCHES, HEIGHT_INCHES, DPI = 6.0, 3.0, 160
# Okabe and Ito's colour-blind-safe blue and vermillion; each line also has its own marker
# and dash, so the two sides are told apart without colour too.
LINE_STYLES = (("#0072B2", "o", "-"), ("#D55E00", "s", "--"))
# Band zones, best to worst: pale tints, each zone also named beside the plot.
BAND_TINTS = ("#D4EDDA", "#DCEAF7", "#FFF3CD", "#FCE1CC", "#F8D7DA")
INK, MUTED, GRID = "#222222", "#555555", "#DDDDDD"
_LOCK = threading.Lock()


def draw_png(chart: Chart) -> bytes:
    """The chart as PNG bytes; the same chart always gives the same bytes."""
    with _LOCK:
        figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
        FigureCanvasAgg(figure)
        right = 0.83 if chart.bands else 0.97
        axes = figure.add_axes((0.1, 0.13, right - 0.1, 0.71))
        figure.text(0.1, 0.95, chart.title, fontsize=10.5, weight="bold", color=INK, va="top")
        _shade_bands(axes, chart)
        drawn = [
            _draw_line(axes, chart, series, number) for number, series in enumerate(chart.series)
        ]
        if not any(drawn):
            axes.text(
                0.5,
                0.5,
                "No data yet",
                transform=axes.transAxes,
                ha="center",
                va="center",
                color=MUTED,
            )
        if len(chart.series) > 1:
            axes.legend(
                loc="lower right", bbox_to_anchor=(1, 1), ncols=2, frameon=False, fontsize=8.5
            )
        _frame(axes, chart)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        figure.clear()  # break the artists' reference cycles now rather than at the next GC
    return buffer.getvalue()


def _shade_bands(axes: Axes, chart: Chart) -> None:
    top = chart.scale.high
    count = len(chart.bands)
    for rank, band in enumerate(chart.bands):
        tint = BAND_TINTS[round(rank * (len(BAND_TINTS) - 1) / max(count - 1, 1))]
        axes.axhspan(band.floor, top, facecolor=tint, edgecolor="none", zorder=0)
        middle = (band.floor + top) / 2
        axes.text(
            1.02,
            middle,
            band.name,
            transform=axes.get_yaxis_transform(),
            fontsize=8,
            color=INK,
            va="center",
        )
        top = band.floor


def _draw_line(axes: Axes, chart: Chart, series: Series, number: int) -> bool:
    """Draw one series, gaps where weeks have no data, its latest figure written beside
    its last point; False when it has no data at all."""
    colour, marker, dash = LINE_STYLES[number % len(LINE_STYLES)]
    y = np.array([np.nan if v is None else v for v in series.values], dtype=float)
    x = np.arange(len(y))
    axes.plot(
        x,
        y,
        color=colour,
        marker=marker,
        linestyle=dash,
        linewidth=2,
        markersize=4.5,
        label=series.label or None,
        zorder=3,
    )
    known = np.flatnonzero(~np.isnan(y))
    if not known.size:
        return False
    last = known[-1]
    axes.annotate(
        chart.scale.text(y[last]),
        (x[last], y[last]),
        xytext=(6, _nudge(chart, series)),
        textcoords="offset points",
        va="center",
        fontsize=8.5,
        weight="bold",
        color=colour,
    )
    return True


def _nudge(chart: Chart, series: Series) -> float:
    """Points to lift a latest-figure label, so two sides' labels don't overlap."""
    finals = [other.latest() for other in chart.series]
    known = [final for final in finals if final is not None]
    if len(chart.series) < 2 or len(known) < len(finals):
        return 0
    return 6 if series.latest() == max(known) else -6


def _frame(axes: Axes, chart: Chart) -> None:
    scale, weeks = chart.scale, chart.weeks
    pad = (scale.high - scale.low) * 0.04
    axes.set_ylim(scale.low - pad, scale.high + pad)
    axes.set_xlim(-0.5, len(weeks) - 0.5 + 0.8)  # room for the latest figure's label
    axes.set_yticks(scale.ticks, [scale.text(tick) for tick in scale.ticks])
    labelled = list(range(len(weeks) - 1, -1, -2))[::-1]  # every other week, to the latest
    axes.set_xticks(labelled, [day_label(weeks[i]) for i in labelled])
    axes.tick_params(labelsize=8, colors=INK, length=0, pad=4)
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(MUTED)
