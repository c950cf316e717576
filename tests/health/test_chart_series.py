"""A relationship's four charts, built from the weekly snapshots the job stored and this
week's index, with the figures made the way people make them: gaps for weeks without a
snapshot, and no figure for a side hidden to keep answers anonymous."""

from __future__ import annotations

from datetime import date, timedelta

from bot.health.chart_series import RelationshipCharts, relationship_charts
from bot.health.index import compute_health
from bot.relationships.models import Relationship
from tests.support.health_helpers import chatter, health_relationship, pulse_round, store_snapshots
from tests.support.pulse_helpers import pulse
from tests.support.queries import queries_during

EVERYONE_ANSWERS = {"UALICE": 4, "UC1": 3, "UC2": 4, "UC3": 3, "UPAT": 5, "UP1": 4, "UP2": 4}
FIRST_WEEK = date(2026, 3, 2)  # the clock's start


def charts_now(rapport, relationship_id: int) -> tuple[RelationshipCharts, int]:
    """The charts as a view gets them, and how many queries they took: one for the weeks,
    one for today's minimum group size (the pulse settings)."""
    with rapport.db.read() as session:
        relationship = session.get(Relationship, relationship_id)
        index = compute_health(session, relationship, rapport.clock.now())
        built = []
        queries = queries_during(
            rapport.db, lambda: built.append(relationship_charts(session, index))
        )
    return built[0], queries


def test_charts_cover_twelve_weeks_from_the_snapshots_and_this_weeks_index(rapport):
    relationship_id = health_relationship(rapport)
    pulse_round(rapport, EVERYONE_ANSWERS)
    chatter(rapport, formal=3, messages=15)
    store_snapshots(rapport)  # the week of 2 March
    rapport.clock.advance(weeks=2)  # nothing stored the week of 9 March
    store_snapshots(rapport)  # 16 March
    rapport.clock.advance(weeks=1)
    charts, queries = charts_now(rapport, relationship_id)
    assert queries == 2
    assert [chart.kind for chart in charts.all()] == ["index", "pulse", "adherence", "formal_share"]
    weeks = [FIRST_WEEK + timedelta(weeks=n) for n in range(-8, 4)]
    assert all(chart.weeks == tuple(weeks) for chart in charts.all())
    index = charts.index.series[0].values
    assert index[:8] == (None,) * 8 and index[9] is None  # before Rapport, and 9 March
    assert None not in (index[8], index[10], index[11])
    assert "now Healthy" in charts.index.alt_text() or "now Thriving" in charts.index.alt_text()
    client, provider = (series.values for series in charts.pulse.series)
    assert client[8] == 3.5 and provider[8] == 4.333333333333333 and client[9] is None
    assert charts.pulse.alt_text().startswith("Pulse average (1–5), last 12 weeks: client 3.5")
    assert charts.formal_share.series[0].values[8] == 0.2  # 3 formal of 15 messages
    assert charts.adherence.series[0].values == (None,) * 12  # no check-ins
    assert charts.adherence.alt_text() == "Check-ins held, last 12 weeks: no data yet."


def test_a_side_hidden_to_keep_answers_anonymous_has_no_figure_in_any_week(rapport):
    relationship_id = health_relationship(rapport, channels=())
    pulse_round(rapport, {"UC1": 1, "UC2": 1, "UPAT": 4, "UP1": 3, "UP2": 5})
    store_snapshots(rapport)
    rapport.clock.advance(weeks=1)
    charts, _ = charts_now(rapport, relationship_id)
    client, provider = (series.values for series in charts.pulse.series)
    assert client == (None,) * 12
    assert provider[-2:] == (4.0, 4.0)
    assert "client no data yet" in charts.pulse.alt_text()
    assert "1.0" not in charts.pulse.alt_text()


def test_a_relationship_without_snapshots_charts_this_week_alone(rapport):
    relationship_id = health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    charts, queries = charts_now(rapport, relationship_id)
    assert queries == 2
    assert charts.index.series[0].values[:-1] == (None,) * 11
    assert charts.index.series[0].values[-1] is not None
    assert "(first week with data)" in charts.index.alt_text()


def test_past_pulse_figures_shown_under_a_lower_minimum_group_are_left_out(rapport):
    relationship_id = health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)  # four client and three provider answers
    store_snapshots(rapport)
    rapport.clock.advance(weeks=1)
    before, _ = charts_now(rapport, relationship_id)
    assert before.pulse.series[0].values[-2:] == (3.5, 3.5)
    pulse(rapport, "settings min-group 4")
    after, _ = charts_now(rapport, relationship_id)
    client, provider = (series.values for series in after.pulse.series)
    assert client == (None,) * 11 + (3.5,)  # last week's was shown under a minimum of 3
    assert provider == (None,) * 12  # three answers: hidden under today's minimum
    assert after.index.series[0].values[-2] == before.index.series[0].values[-2]
