"""The App Home tab: a card per relationship, or where to start for someone in none.

An owner's card: the index, band and trend, the index chart of the last 12 weeks, a line
per pillar, open drift alerts with their buttons, the next check-ins and the open pulse
round's answers so far (totals only). A member's card: the index and band, their next
check-ins with *I'll be there* / *Can't make it*, and *Give feedback now*. Home holds at
most ``HOME_BLOCKS`` blocks: cards that don't fit are counted in an "and N more" line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.checkins.blocks import NEW_ACTION as NEW_CHECKIN_ACTION
from bot.checkins.blocks import rsvp_buttons
from bot.core.figures import decimal_text
from bot.drift.blocks import alert_buttons
from bot.health.blocks import pillars_text
from bot.health.chart_uploads import ChartBlock
from bot.home.dashboard import Card, Home, NextCheckIn, OpenAlert, PulseStatus
from bot.pulse.blocks import GIVE_FEEDBACK_ACTION, SEND_NOW_ACTION, when
from bot.pulse.results_blocks import sparkline
from bot.slack import mrkdwn
from bot.slack.blocks import SECTION_LIMIT, Blocks, button, context, section

HOME_BLOCKS = 100  # Slack's limit for a Home tab
SHOWN_PEOPLE = 6  # of a check-in's participants, named

INTRO = (
    "Keeps the informal relationship between a client and its provider alive: pulse "
    "feedback from both sides, check-ins that keep happening, and early warnings when talk "
    "turns formal."
)
ALERT_WORDS = {
    "formal_tone": "Formal tone in {channel}",
    "unanswered": "Formal requests going unanswered in {channel}",
    "one_way": "One-way traffic in {channel}",
}
CHART_PLACE = {"type": "image"}  # where a chart goes, to count blocks before any upload


def home_view(home: Home, charts: Mapping[int, ChartBlock]) -> dict[str, Any]:
    """The Home tab for ``home``: each card that fits with its chart from ``charts`` (by
    relationship id; None or missing: no picture), the start view when there is none."""
    if home.total == 0:
        return start_view()
    shown = cards_that_fit(home)
    blocks = [_header()]
    for card in shown:
        blocks.extend(card_blocks(card, charts.get(card.relationship_id)))
    more = home.total - len(shown)
    if more:
        blocks.append(context(f"…and {more} more — `/rapport list` shows them all."))
    blocks.append(_start_buttons())
    return {"type": "home", "blocks": blocks}


def start_view() -> dict[str, Any]:
    """For someone in no relationship yet: what Rapport does and how to start."""
    blocks = [
        _header(),
        section(
            "*Welcome!* You're not part of a relationship yet.\n"
            "Set one up for a client and its provider and I'll keep an eye on how it's "
            "going: a short pulse to both sides, regular check-ins, and a word when the "
            "shared channels turn formal. Or ask an owner to add you "
            "(`/rapport add @you client|provider`)."
        ),
        _start_buttons(),
    ]
    return {"type": "home", "blocks": blocks}


def cards_that_fit(home: Home) -> list[Card]:
    """The first cards whose blocks, with the header, an "and N more" line and the buttons,
    stay within ``HOME_BLOCKS``; charts counted as shown."""
    budget, shown = HOME_BLOCKS - 3, []
    for card in home.cards:
        size = len(card_blocks(card, CHART_PLACE))
        if size > budget:
            break
        budget -= size
        shown.append(card)
    return shown


def card_blocks(card: Card, chart: ChartBlock) -> Blocks:
    blocks = [section(_headline(card))]
    index = card.report.index
    if card.is_owner and index.value is not None:
        if chart is not None:
            blocks.append(chart)
        blocks.append(section(pillars_text(index)[:SECTION_LIMIT]))
    if card.is_owner:
        blocks.extend(_alert_blocks(card))
    blocks.extend(_checkin_blocks(card))
    blocks.append(_pulse_block(card))
    blocks.append({"type": "divider"})
    return blocks


def _header() -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": "Rapport"}}


def _start_buttons() -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            button("Set up a relationship", "open_setup", style="primary"),
            button("Help", "show_help"),
        ],
    }


def _headline(card: Card) -> str:
    membership, report = card.membership, card.report
    who = f"{membership.side.value} {membership.role.value}"
    line = f"*{mrkdwn.escape(membership.name)}* · you're {who}"
    index = report.index
    if index.value is None:
        return f"{line}\nNo health index yet: too little data so far (`/rapport health`)."
    line += f"\nHealth *{decimal_text(index.value, 0)}*/100 · *{index.band}*"
    earlier = [value for value in report.trend[:-1] if value is not None]
    if earlier:
        line += f" · `{sparkline(report.trend, 0, 100)}` {_since_last_week(report.trend)}"
    return line


def _since_last_week(trend: list[float | None]) -> str:
    now, before = trend[-1], trend[-2] if len(trend) > 1 else None
    if now is None or before is None:
        return f"last {len(trend)} weeks"
    change = round(now) - round(before)
    if change == 0:
        return "same as last week"
    return f"{'up' if change > 0 else 'down'} {abs(change)} since last week"


def _alert_blocks(card: Card) -> Blocks:
    blocks: Blocks = []
    for alert in card.alerts:
        blocks.append(section(f":warning: {_alert_text(alert)}"))
        blocks.append(alert_buttons(card.relationship_id, alert.alert_id))
    if card.more_alerts:
        blocks.append(context(f"{card.more_alerts} more open drift alert(s) not shown."))
    return blocks


def _alert_text(alert: OpenAlert) -> str:
    words = ALERT_WORDS.get(alert.kind, "Drift in {channel}")
    return f"*{words.format(channel=mrkdwn.channel(alert.channel_id))}* · {when(alert.sent_at)}"


def _checkin_blocks(card: Card) -> Blocks:
    if not card.checkins:
        nothing = "No check-ins coming up" if card.is_owner else "No check-ins coming up for you"
        return [
            {
                **section(f"{nothing}."),
                "accessory": button(
                    "Add a check-in", NEW_CHECKIN_ACTION, str(card.relationship_id)
                ),
            }
        ]
    blocks: Blocks = []
    for checkin in card.checkins:
        blocks.append(section(_checkin_text(checkin)[:SECTION_LIMIT]))
        if checkin.invited and checkin.skipped is None:
            blocks.append(rsvp_buttons(checkin.occurrence_id))
    return blocks


def _checkin_text(checkin: NextCheckIn) -> str:
    with_whom = mrkdwn.people(checkin.participants, most=SHOWN_PEOPLE)
    text = f"🗓️ *{mrkdwn.escape(checkin.title)}* · {when(checkin.starts_at)}\nWith {with_whom}"
    if checkin.skipped is not None:
        return f"{text}\nSkipped: {mrkdwn.escape(checkin.skipped)}"
    if checkin.attending is not None:
        text += "\nYou said: " + ("you'll be there" if checkin.attending else "you can't make it")
    return text


def _pulse_block(card: Card) -> dict[str, Any]:
    value = str(card.relationship_id)
    feedback = button("Give feedback now", GIVE_FEEDBACK_ACTION, value)
    status = card.pulse
    if status is not None:
        return {**section(_open_round_text(status)), "accessory": feedback}
    if card.is_owner:
        return {
            **section("No pulse round is open."),
            "accessory": button("Send a pulse now", SEND_NOW_ACTION, value),
        }
    return {
        **section("No pulse round is open: feedback you give now counts in the next one."),
        "accessory": feedback,
    }


def _open_round_text(status: PulseStatus) -> str:
    text = f"📊 A pulse round is open until {when(status.closes_at)}"
    progress = status.progress
    if progress is None:
        return f"{text}: add your voice while it lasts."
    return (
        f"{text}: {progress.respondents} of {progress.recipients} answered so far "
        "(totals only while it's open)."
    )
