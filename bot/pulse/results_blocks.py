"""Block Kit and words for pulse results: figures per side, trends over rounds, and the
alerts a closed round raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.figures import decimal_text, percent_text
from bot.pulse.blocks import when
from bot.pulse.results import PulseAlert, PulseResults, QuestionFigures, RoundResult, SideFigures
from bot.relationships.blocks import side_left_text
from bot.relationships.models import Side
from bot.slack import mrkdwn
from bot.slack.blocks import SECTION_LIMIT, Blocks, button, context, section, sections

CATCH_UP_ACTION = "schedule_catch_up"  # handled by check-ins
SPARKS = "▁▂▃▄▅▆▇█"


def results_title(name: str) -> str:
    return f"Pulse results for {mrkdwn.escape(name)}"


def sparkline(values: list[float | None], low: float = 1.0, high: float = 5.0) -> str:
    """One character per round on a ``low``–``high`` scale; a dot where a figure isn't shown."""
    chars = []
    for value in values:
        if value is None:
            chars.append("·")
        else:
            share = (min(max(value, low), high) - low) / (high - low)
            chars.append(SPARKS[round(share * (len(SPARKS) - 1))])
    return "".join(chars)


@dataclass(frozen=True)
class TrendScale:
    """How one kind of figure is drawn over the rounds and its latest change worded."""

    low: float
    high: float
    steady: float  # a change smaller than this reads "steady"
    up: str  # e.g. "↑ {}", filled with the size of the change
    down: str
    shown: Callable[[float], str] = decimal_text  # how the size of the change reads


SCORE_TREND = TrendScale(1.0, 5.0, 0.05, "↑ {}", "↓ {}")
RATE_TREND = TrendScale(0.0, 1.0, 0.005, "↑ {}", "↓ {}", percent_text)
GAP_TREND = TrendScale(0.0, 4.0, 0.05, "wider by {}", "narrower by {}")


def trend(values: list[float | None], scale: TrendScale) -> str:
    """`` `▃▅▇` ↑ 0.4``: a sparkline over the rounds and the change since the previous one
    (when both are shown); empty for a single round."""
    if len(values) < 2:
        return ""
    line = f"  `{sparkline(values, scale.low, scale.high)}`"
    if values[-1] is None or values[-2] is None:
        return line
    delta = values[-1] - values[-2]
    if abs(delta) < scale.steady:
        return line + " → steady"
    return line + " " + (scale.up if delta > 0 else scale.down).format(scale.shown(abs(delta)))


def _size(gap: float | None) -> float | None:
    return None if gap is None else abs(gap)


NOT_ENOUGH = "_not enough answers yet_"
# Sections of comments at most (3,000 characters each): a round's comments beyond them are
# counted, not shown
COMMENT_SECTIONS = 5


def _figure(value: float | None) -> str:
    return NOT_ENOUGH if value is None else f"*{decimal_text(value)}*"


def _rate(figures: SideFigures) -> str:
    if not figures.recipients:
        return f"{figures.respondents} answered"
    return (
        f"{figures.respondents} of {figures.recipients} answered "
        f"({percent_text(figures.respondents / figures.recipients)})"
    )


def results_blocks(found: PulseResults, is_owner: bool) -> Blocks:
    name = mrkdwn.escape(found.relationship_name)
    blocks: Blocks = []
    if found.latest is None:
        blocks.append(section(f"*Pulse for {name}*: no round has closed yet."))
    else:
        blocks.extend(_latest_blocks(name, found.latest, found.trend, is_owner))
        if is_owner and found.unreachable:
            blocks.append(context(unreachable_text(found.unreachable)))
    if is_owner and found.open_round is not None:
        progress = found.open_round
        unreachable = f" {unreachable_text(progress.unreachable)}" if progress.unreachable else ""
        blocks.append(
            context(
                f"Round open until {when(progress.closes_at)}: {progress.respondents} of "
                f"{progress.recipients} people answered so far (totals only while it's open)."
                + unreachable
            )
        )
    if found.departed is not None:
        blocks.append(context(side_left_text(*found.departed)))
    rounds = len(found.trend)
    trends = f"trends over the last {rounds} rounds" if rounds > 1 else "trends from round two"
    blocks.append(
        context(
            f"Anonymous: figures only for groups of {found.min_group} or more answers. "
            f"Scores 1 (very poorly) to 5 (very well); {trends}."
        )
    )
    return blocks


def unreachable_text(count: int) -> str:
    member = "member" if count == 1 else "members"
    return f"{count} {member} couldn't be reached (deactivated or not found)."


def _latest_blocks(
    name: str, latest: RoundResult, trend_rounds: list[RoundResult], is_owner: bool
) -> Blocks:
    lines = [f"*Pulse for {name}* · round closed {when(latest.closes_at)}"]
    for side in Side:
        figures = latest.sides[side]
        averages = [r.sides[side].average for r in trend_rounds]
        rates = [r.sides[side].response_rate for r in trend_rounds]
        lines.append(
            f"*{side.value.capitalize()}*: {_figure(figures.average)}"
            f"{trend(averages, SCORE_TREND)} · {_rate(figures)}{trend(rates, RATE_TREND)}"
        )
        if is_owner:
            if figures.frontline is None or figures.managers is None:
                lines.append("    front-line / managers: " + NOT_ENOUGH)
            else:
                role_gaps = [_size(r.sides[side].role_gap) for r in trend_rounds]
                lines.append(
                    f"    front-line *{decimal_text(figures.frontline)}* / managers "
                    f"*{decimal_text(figures.managers)}* "
                    f"(gap {decimal_text(figures.role_gap, signed=True)})"
                    f"{trend(role_gaps, GAP_TREND)}"
                )
    if latest.gap is None:
        lines.append("*Client–provider gap*: " + NOT_ENOUGH)
    else:
        higher = "client" if latest.gap > 0 else "provider"
        lines.append(
            f"*Client–provider gap*: *{decimal_text(abs(latest.gap))}* "
            f"({'even' if abs(latest.gap) < 0.05 else f'{higher} side happier'})"
            + trend([_size(r.gap) for r in trend_rounds], GAP_TREND)
        )
    blocks = [section("\n".join(lines))]
    if latest.questions:
        blocks.append(section(_questions_text(latest.questions)))
    if is_owner and latest.comments:
        quoted = ["> " + mrkdwn.escape(text).replace("\n", "\n> ") for _, text in latest.comments]
        title = "*Comments* (anonymous, in random order)"
        blocks.extend(sections([title, *quoted], COMMENT_SECTIONS, what="more comments"))
    return blocks


def _questions_text(questions: list[QuestionFigures]) -> str:
    lines = ["*By question* (client / provider)"]
    for number, question in enumerate(questions, start=1):
        client, provider = question.averages[Side.CLIENT], question.averages[Side.PROVIDER]
        lines.append(
            f"{number}. {mrkdwn.escape(question.text)}: {_figure(client)} / {_figure(provider)}"
        )
    return "\n".join(lines)[:SECTION_LIMIT]


def alert_text(name: str, alert: PulseAlert) -> str:
    name = mrkdwn.escape(name)
    if alert.kind == "drop":
        return (
            f"📉 *{name}*: the {alert.side} side's pulse dropped from "
            f"*{decimal_text(alert.previous or 0)}* to *{decimal_text(alert.current)}* "
            f"({decimal_text(alert.current - (alert.previous or 0), signed=True)}) "
            "since the previous round."
        )
    if alert.kind == "gap":
        happier = "client" if alert.current > 0 else "provider"
        return (
            f"↔️ *{name}*: the two sides see things differently: the {happier} side scores "
            f"*{decimal_text(abs(alert.current))}* points higher than the other."
        )
    return (
        f"📭 *{name}*: only *{percent_text(alert.current)}* of the {alert.side} side answered "
        "the pulse. "
        "Quiet often means disengaged."
    )


NEXT_STEP = "An informal catch-up between the owners often helps before it becomes formal."


def alert_blocks(relationship_id: int, name: str, alert: PulseAlert) -> Blocks:
    return [
        section(alert_text(name, alert)),
        context(NEXT_STEP + " `/pulse results` has the details."),
        {
            "type": "actions",
            "elements": [
                button(
                    "Schedule an informal catch-up",
                    CATCH_UP_ACTION,
                    str(relationship_id),
                    style="primary",
                )
            ],
        },
    ]
