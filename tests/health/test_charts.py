"""Health charts: PNG pictures drawn from weekly figures (gaps for weeks without data), band
zones behind the index, and alt text that tells every figure; drawn without pyplot."""

from __future__ import annotations

import gc
import io
import struct
import subprocess
import sys
import textwrap
import threading
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from bot.health.chart_drawing import BAND_TINTS, LINE_STYLES
from bot.health.charts import (
    DEFAULT_BANDS,
    Band,
    PulsePoint,
    WeeklyPoint,
    adherence_chart,
    band_of,
    chart_picture,
    formal_share_chart,
    index_chart,
    pulse_chart,
)
from bot.slack.blocks import ALT_TEXT_LIMIT

ROOT = Path(__file__).resolve().parents[2]
WEEKS = [date(2025, 12, 8) + timedelta(weeks=n) for n in range(12)]
INDEX = [71, 74, 70, None, 68, 66, 63, 58, 60, None, 62, 64]


def weekly(values) -> list[WeeklyPoint]:
    return [WeeklyPoint(week, value) for week, value in zip(WEEKS, values, strict=True)]


def every_chart():
    return [
        index_chart(weekly(INDEX)),
        pulse_chart(
            [
                PulsePoint(week, None if n == 3 else 3.5 - 0.05 * n, 4.1)
                for n, week in enumerate(WEEKS)
            ]
        ),
        adherence_chart(weekly([None] * 5 + [0.75] * 7)),
        formal_share_chart(weekly([0.05, 0.08, 0.1, 0.22] + [None] * 8)),
    ]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def colours_in(png: bytes) -> set[str]:
    pixels = (imread(io.BytesIO(png))[:, :, :3] * 255).round().astype(np.uint8)
    return {"#{:02X}{:02X}{:02X}".format(*rgb) for rgb in np.unique(pixels.reshape(-1, 3), axis=0)}


def test_every_chart_is_a_png_slack_can_show_at_a_readable_size():
    for chart in every_chart():
        png = chart.render_png()
        assert png_size(png) == (960, 480)
        assert 5_000 < len(png) < 200_000


def test_the_index_chart_shades_every_band_zone_and_draws_its_line():
    shown = colours_in(index_chart(weekly(INDEX)).render_png())
    assert set(BAND_TINTS) <= shown
    assert LINE_STYLES[0][0] in shown
    pulse = colours_in(every_chart()[1].render_png())
    assert not set(BAND_TINTS) & pulse  # only the index has zones
    assert {LINE_STYLES[0][0], LINE_STYLES[1][0]} <= pulse  # both sides' lines


def test_a_chart_with_no_data_at_all_still_renders_and_says_so():
    chart = formal_share_chart(weekly([None] * 12))
    assert png_size(chart.render_png()) == (960, 480)
    assert chart.alt_text() == "Formal share of channel talk, last 12 weeks: no data yet."


def test_index_alt_text_carries_the_trend_the_band_and_every_week():
    text = index_chart(weekly(INDEX)).alt_text()
    assert text.startswith("Health index, last 12 weeks: 71 → 64, now Watch.")
    assert "from 8 Dec to 23 Feb: 71, 74, 70, no data, 68, 66, 63, 58, 60, no data, 62, 64." in text


def test_index_alt_text_says_when_the_latest_week_has_no_data():
    text = index_chart(weekly([None] * 8 + [40, 44, None, None])).alt_text()
    assert "40 → 44 (no data after 9 Feb), Strained at the latest reading." in text
    first = index_chart(weekly([None] * 11 + [82])).alt_text()
    assert "82 (first week with data), now Thriving." in first
    one = index_chart([WeeklyPoint(WEEKS[0], 20)]).alt_text()
    assert one == "Health index, this week: 20 (first week with data), now At risk. " + (
        "Week of 8 Dec: 20."
    )


def test_pulse_alt_text_gives_each_side_and_percent_charts_give_percentages():
    pulse, adherence, formal = (chart.alt_text() for chart in every_chart()[1:])
    assert "client 3.5 → 3.0, provider 4.1 → 4.1" in pulse
    assert "client 3.5, 3.5, 3.4, no data, 3.3" in pulse and "provider 4.1, 4.1" in pulse
    assert "Check-ins held, last 12 weeks: 75% → 75%." in adherence
    assert "Formal share of channel talk, last 12 weeks: 5% → 22% (no data after 29 Dec)" in formal


def test_alt_text_stays_within_slacks_limit_however_many_weeks():
    weeks = [date(2020, 1, 6) + timedelta(weeks=n) for n in range(400)]
    points = [PulsePoint(week, 3.25, 4.75) for week in weeks]
    text = pulse_chart(points).alt_text()
    assert len(text) == ALT_TEXT_LIMIT and text.endswith("…")


def test_band_cut_offs_are_a_parameter():
    assert band_of(65).name == "Healthy" and band_of(64.9).name == "Watch"
    assert band_of(34).name == "At risk" and band_of(100).name == "Thriving"
    strict = (Band("Good", 90), Band("Poor", 0))
    chart = index_chart(weekly(INDEX), bands=strict)
    assert "now Poor" in chart.alt_text()
    assert chart.fingerprint() != index_chart(weekly(INDEX), bands=DEFAULT_BANDS).fingerprint()
    assert set(BAND_TINTS[::4]) <= colours_in(chart.render_png())  # the best and worst tints


def test_the_fingerprint_changes_with_the_figures_and_the_picture_does_not_otherwise():
    same, again = index_chart(weekly(INDEX)), index_chart(weekly(INDEX))
    assert same.fingerprint() == again.fingerprint()
    as_floats = [None if v is None else float(v) for v in INDEX]
    assert index_chart(weekly(as_floats)).fingerprint() == same.fingerprint()
    assert same.render_png() == again.render_png()
    changed = index_chart(weekly([*INDEX[:-1], 65]))
    assert changed.fingerprint() != same.fingerprint()
    assert changed.render_png() != same.render_png()
    picture = chart_picture(same, relationship_id=42)
    assert picture.purpose == "health:42:index" and picture.fingerprint == same.fingerprint()
    assert picture.filename == "rapport-index.png" and picture.render() == same.render_png()


def test_a_chart_needs_at_least_one_week_and_a_figure_for_each():
    with pytest.raises(ValueError):
        index_chart([])
    chart = adherence_chart(weekly(INDEX))
    with pytest.raises(ValueError):
        type(chart)(chart.kind, chart.title, chart.weeks[:3], chart.series, chart.scale)


def test_drawing_leaves_no_figure_alive():
    for chart in every_chart():
        chart.render_png()
    gc.collect()
    assert not [thing for thing in gc.get_objects() if isinstance(thing, Figure)]


def test_drawing_never_imports_pyplot_or_picks_a_gui_backend():
    script = textwrap.dedent(
        """
        import sys
        from tests.health.test_charts import every_chart
        for chart in every_chart():
            chart.render_png()
        print("matplotlib.pyplot" in sys.modules, "matplotlib.backends.backend_agg" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_charts_drawn_on_many_threads_at_once_match_those_drawn_one_by_one():
    charts = every_chart()
    expected = [chart.render_png() for chart in charts]
    drawn: dict[int, list[bytes]] = {}

    def draw(worker: int) -> None:
        drawn[worker] = [chart.render_png() for chart in charts]

    threads = [threading.Thread(target=draw, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(pictures == expected for pictures in drawn.values()) and len(drawn) == 4
