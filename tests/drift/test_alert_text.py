"""Wording of drift alerts (bot.drift.blocks): pure, no Slack, no database."""

from __future__ import annotations

import pytest

from bot.drift.alerts import AlertNotice
from bot.drift.blocks import alert_message, headline, trend
from bot.drift.signals import ChannelFigures


def notice(formal: int, formal_before: int) -> AlertNotice:
    figures = ChannelFigures(
        messages=10, formal=formal, formal_before=formal_before, unanswered=0, by_side={}
    )
    return AlertNotice(
        alert_id=1,
        team_id="T0ACME",
        relationship_id=1,
        relationship_name="Acme ⇄ Stellar",
        kind="formal_tone",
        channel_id="CSHARED",
        figures=figures,
        window_days=7,
        unanswered_hours=24,
        cues=('SLA / penalty ("SLA breach", "service credits")',),
        message_ts=None,
        recipients=("CALERTS",),
    )


@pytest.mark.parametrize(
    ("now", "before", "words"),
    [(4, 1, "up from 1"), (3, 5, "down from 5"), (3, 3, "the same as")],
)
def test_trend_says_which_way_the_figure_went(now, before, words):
    assert trend(now, before) == words


@pytest.mark.parametrize(
    ("formal", "before", "title"),
    [(4, 1, "rising"), (3, 3, "still high"), (3, 5, "still high")],
)
def test_headline_says_rising_only_when_it_rose(formal, before, title):
    assert headline(notice(formal, before)) == f"Formal tone {title} in <#CSHARED>"


def test_alert_shows_the_trend_and_the_cues_grouped_by_kind():
    text, blocks = alert_message(notice(3, 5))
    body = blocks[0]["text"]["text"]
    assert text == "Formal tone still high in <#CSHARED> (Acme ⇄ Stellar)"
    assert "3 of the last 10 messages (7 days)" in body and "down from 5 the 7 days before" in body
    assert 'Cues: SLA / penalty ("SLA breach", "service credits")' in body
