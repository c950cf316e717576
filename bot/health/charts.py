"""The health charts: what each one shows, its alt text, and its fingerprint.

Four charts over the last weeks, built from plain weekly figures (``None`` for a week
without data): the health index over its band zones, each side's pulse average, check-in
adherence and the formal share of channel talk. A chart is a value: ``alt_text`` tells its
figures in words (for a screen reader, a notification, or a message whose picture couldn't
be uploaded), ``fingerprint`` changes exactly when the picture would, so an uploaded one is
reused until then, and ``render_png`` (``bot.health.chart_drawing``) draws it.

>>> chart = index_chart([WeeklyPoint(date(2026, 2, 23), 71), WeeklyPoint(date(2026, 3, 2), 64)])
>>> chart.alt_text()
'Health index, last 2 weeks: 71 → 64, now Watch. Week by week from 23 Feb to 2 Mar: 71, 64.'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date

from bot.core.figures import decimal_text, percent_text
from bot.health import formula
from bot.slack.blocks import ALT_TEXT_LIMIT
from bot.slack.files import Picture

NO_DATA = "no data"
# Bump when the drawing changes, so pictures uploaded before are drawn again.
DRAWING_VERSION = 1


@dataclass(frozen=True)
class WeeklyPoint:
    week: date  # the first day of the week
    value: float | None  # None: no data that week


@dataclass(frozen=True)
class PulsePoint:
    week: date
    client: float | None  # each side's pulse average (1-5); None: no figure that week
    provider: float | None


@dataclass(frozen=True)
class Band:
    name: str
    floor: float  # the lowest index in the band


# Highest first: the health formula's cut-offs (charts take them as a parameter).
DEFAULT_BANDS = tuple(Band(name.capitalize(), floor) for floor, name in formula.BANDS)


def band_of(index: float, bands: Sequence[Band] = DEFAULT_BANDS) -> Band:
    """The band ``index`` falls in: the first, from the top, whose floor it reaches."""
    return next((band for band in bands if index >= band.floor), bands[-1])


@dataclass(frozen=True)
class Scale:
    low: float
    high: float
    ticks: tuple[float, ...]
    percent: bool = False  # values are shares (0-1) shown as percentages
    places: int = 0  # decimals shown, when not a percentage

    def text(self, value: float) -> str:
        return percent_text(value) if self.percent else decimal_text(value, self.places)


@dataclass(frozen=True)
class Series:
    label: str  # "" for a chart's only line
    values: tuple[float | None, ...]

    def latest(self) -> float | None:
        """The figure of the last week with data."""
        return next((v for v in reversed(self.values) if v is not None), None)


@dataclass(frozen=True)
class Chart:
    kind: str  # "index", "pulse", "adherence", "formal_share": part of its upload's purpose
    title: str
    weeks: tuple[date, ...]
    series: tuple[Series, ...]
    scale: Scale
    bands: tuple[Band, ...] = ()  # zones shaded behind the line (the index chart)

    def __post_init__(self) -> None:
        if not self.weeks or any(len(s.values) != len(self.weeks) for s in self.series):
            raise ValueError("a chart needs at least one week, and a figure for each")

    def fingerprint(self) -> str:
        """A hash of everything the picture shows: equal fingerprints, equal pictures."""
        shown = {"drawing": DRAWING_VERSION, **asdict(self)}
        encoded = json.dumps(shown, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()

    def alt_text(self) -> str:
        """The chart in words, every week's figure included, within Slack's limit."""
        weekly = self._week_by_week()
        return _fit(f"{self._summary()}. {weekly}." if weekly else f"{self._summary()}.")

    def render_png(self) -> bytes:
        from bot.health.chart_drawing import draw_png  # matplotlib loads on first drawing

        return draw_png(self)

    def _summary(self) -> str:
        span = "this week" if len(self.weeks) == 1 else f"last {len(self.weeks)} weeks"
        head = f"{self.title}, {span}"
        if len(self.series) == 1:
            return f"{head}: {self._trend(self.series[0])}{self._band_note()}"
        trends = ", ".join(f"{s.label.lower()} {self._trend(s)}" for s in self.series)
        return f"{head}: {trends}"

    def _trend(self, series: Series) -> str:
        known = [
            (week, v) for week, v in zip(self.weeks, series.values, strict=True) if v is not None
        ]
        if not known:
            return f"{NO_DATA} yet"
        first, (last_week, last) = known[0][1], known[-1]
        trend = self.scale.text(last)
        if len(known) > 1:
            trend = f"{self.scale.text(first)} → {trend}"
        if last_week != self.weeks[-1]:
            trend += f" ({NO_DATA} after {day_label(last_week)})"
        elif len(known) == 1:
            trend += " (first week with data)"
        return trend

    def _band_note(self) -> str:
        latest = self.series[0].latest()
        if not self.bands or latest is None:
            return ""
        name = band_of(latest, self.bands).name
        if self.series[0].values[-1] is None:
            return f", {name} at the latest reading"
        return f", now {name}"

    def _week_by_week(self) -> str:
        """Each series' figures, week by week; "" when no series has any."""
        lines = [
            (f"{s.label.lower()} " if s.label else "") + ", ".join(map(self._figure, s.values))
            for s in self.series
            if any(v is not None for v in s.values)
        ]
        if not lines:
            return ""
        first, last = day_label(self.weeks[0]), day_label(self.weeks[-1])
        span = (
            f"Week of {first}" if len(self.weeks) == 1 else f"Week by week from {first} to {last}"
        )
        return f"{span}: {'; '.join(lines)}"

    def _figure(self, value: float | None) -> str:
        return NO_DATA if value is None else self.scale.text(value)


def chart_picture(chart: Chart, relationship_id: int) -> Picture:
    """What ``bot.slack.files.upload_picture`` needs to upload ``chart`` (or reuse it)."""
    return Picture(
        purpose=f"health:{relationship_id}:{chart.kind}",
        fingerprint=chart.fingerprint(),
        filename=f"rapport-{chart.kind.replace('_', '-')}.png",
        title=chart.title,
        render=chart.render_png,
    )


def index_chart(points: Sequence[WeeklyPoint], bands: Sequence[Band] = DEFAULT_BANDS) -> Chart:
    """The 0-100 health index with its bands shaded behind it."""
    ticks = tuple(sorted({0.0, 100.0, *(band.floor for band in bands)}))
    return Chart(
        kind="index",
        title="Health index",
        weeks=tuple(point.week for point in points),
        series=(Series("", _figures(point.value for point in points)),),
        scale=Scale(0, 100, ticks),
        bands=tuple(bands),
    )


def pulse_chart(points: Sequence[PulsePoint]) -> Chart:
    """Each side's pulse average, 1 (poor) to 5 (great)."""
    return Chart(
        kind="pulse",
        title="Pulse average (1–5)",
        weeks=tuple(point.week for point in points),
        series=(
            Series("Client", _figures(point.client for point in points)),
            Series("Provider", _figures(point.provider for point in points)),
        ),
        scale=Scale(1, 5, (1, 2, 3, 4, 5), places=1),
    )


def adherence_chart(points: Sequence[WeeklyPoint]) -> Chart:
    """Share of scheduled check-ins held (0-1)."""
    return _share_chart("adherence", "Check-ins held", points)


def formal_share_chart(points: Sequence[WeeklyPoint]) -> Chart:
    """Share of channel messages that read as formal (0-1)."""
    return _share_chart("formal_share", "Formal share of channel talk", points)


def _share_chart(kind: str, title: str, points: Sequence[WeeklyPoint]) -> Chart:
    return Chart(
        kind=kind,
        title=title,
        weeks=tuple(point.week for point in points),
        series=(Series("", _figures(point.value for point in points)),),
        scale=Scale(0, 1, (0, 0.25, 0.5, 0.75, 1), percent=True),
    )


def _figures(values: Iterable[float | None]) -> tuple[float | None, ...]:
    """Figures as floats, so 64 and 64.0 make the same fingerprint."""
    return tuple(None if value is None else float(value) for value in values)


def day_label(day: date) -> str:
    """``date(2026, 3, 2)`` → ``"2 Mar"``."""
    return f"{day.day} {day:%b}"


def _fit(text: str) -> str:
    return text if len(text) <= ALT_TEXT_LIMIT else text[: ALT_TEXT_LIMIT - 1] + "…"
