"""Block Kit and words for ``/rapport health``: the index, its band and 12-week trend, the
pillars (members) or every component with its contribution (owners), what changed since
last week, and the next step with a button that does it."""

from __future__ import annotations

from typing import Any

from bot.checkins.blocks import NEW_ACTION as NEW_CHECKIN_ACTION
from bot.core.figures import decimal_text, percent_text
from bot.health import formula
from bot.health.figures import Component, HealthIndex
from bot.health.next_step import NextStep
from bot.health.report import HealthReport
from bot.pulse.blocks import GIVE_FEEDBACK_ACTION, SEND_NOW_ACTION
from bot.pulse.results_blocks import CATCH_UP_ACTION, sparkline
from bot.slack import mrkdwn
from bot.slack.blocks import SECTION_LIMIT, Blocks, button, context, section


def health_title(name: str) -> str:
    return f"Health of {mrkdwn.escape(name)}"


def health_blocks(report: HealthReport, chart: dict[str, Any] | None = None) -> Blocks:
    """The reply; ``chart``, the index chart's image block, shows under the headline."""
    index, name = report.index, mrkdwn.escape(report.name)
    if index.value is None:
        blocks = [section(_no_index_text(name, index, report.is_owner))]
    else:
        blocks = [section(_headline(name, index, report.trend))]
        if chart is not None:
            blocks.append(chart)
        pillars = _components_text(index) if report.is_owner else pillars_text(index)
        blocks.append(section(pillars[:SECTION_LIMIT]))
        if report.changes:
            changed = "\n".join(f"• {line}" for line in report.changes)
            blocks.append(section(f"*Since last week*\n{changed}"[:SECTION_LIMIT]))
        elif not report.compared:
            blocks.append(context("Changes since last week show from next week on."))
    blocks.extend(_step_blocks(report))
    notes = [_empty_sides_text(index, report.is_owner), _left_out_text(index, report.is_owner)]
    notes.append(_footer(report.is_owner))
    blocks.extend(context(note[:SECTION_LIMIT]) for note in notes if note)
    return blocks


def _headline(name: str, index: HealthIndex, trend: list[float | None]) -> str:
    assert index.value is not None
    line = f"*{name}*: *{_points(index.value)}*/100 · *{index.band}*"
    earlier = [value for value in trend[:-1] if value is not None]
    if earlier:
        figures = ", ".join("–" if value is None else _points(value) for value in trend)
        line += f"\n`{sparkline(trend, 0, 100)}` last {len(trend)} weeks: {figures}"
    return line


def _no_index_text(name: str, index: HealthIndex, is_owner: bool) -> str:
    reasons = dict.fromkeys(
        index.components[spec.key].why()
        for spec in formula.COMPONENTS
        if not index.components[spec.key].counted and (is_owner or not spec.owners_only)
    )
    return (
        f"*{name}* has no health index yet: {'; '.join(reasons)}. It needs data for at least "
        f"{formula.MIN_COVERAGE} of the formula's 100 points (`/rapport health formula`)."
    )


def pillars_text(index: HealthIndex) -> str:
    """Each pillar's score with the figures behind it that every member may see."""
    lines = []
    for pillar, label in formula.PILLARS.items():
        score = index.pillar_score(pillar)
        if score is None:
            lines.append(f"*{label}*: not counted")
            continue
        figures = [
            f"{spec.label.lower()} {figure_text(index.components[spec.key])}"
            for spec in formula.COMPONENTS
            if spec.pillar == pillar and not spec.owners_only and index.components[spec.key].counted
        ]
        lines.append(f"*{label}*: *{_points(score)}*/100 · " + " · ".join(figures))
    return "\n".join(lines)


def _components_text(index: HealthIndex) -> str:
    """Owners: every counted component's figure, score, weight and points."""
    lines = []
    for pillar, label in formula.PILLARS.items():
        score = index.pillar_score(pillar)
        shown = "not counted" if score is None else f"*{_points(score)}*/100"
        lines.append(f"*{label}*: {shown}")
        for spec in formula.COMPONENTS:
            component = index.components[spec.key]
            if spec.pillar != pillar or not component.counted:
                continue
            lines.append(
                f"    {spec.label}: {figure_text(component)} → {_points(component.score or 0)}"
                f" × {_points(index.weights[spec.key])}% = "
                f"*{decimal_text(index.contribution(spec.key) or 0)}* points"
            )
    return "\n".join(lines)


def figure_text(component: Component) -> str:
    """A counted component's figure, in its own unit."""
    figure, detail = component.figure or 0.0, component.detail
    key = component.key
    if key.endswith("_pulse"):
        return f"{decimal_text(figure)} of 5"
    if key.endswith("_response"):
        return f"{percent_text(figure)} ({detail['respondents']} of {detail['recipients']})"
    if key == "side_gap":
        return f"{decimal_text(figure)} ({detail['higher']} side happier)"
    if key == "role_gap":
        return f"{decimal_text(figure)} ({detail['side']} side)"
    if key == "adherence":
        return f"{detail['held']} of {detail['scheduled']} held ({percent_text(figure)})"
    if key == "lapses":
        return _lapses_text(detail)
    if key == "intros_met":
        return f"{detail['met']} of {detail['groups']} groups met ({percent_text(figure)})"
    if key == "formal_share":
        messages = sum(counts[0] for counts in detail["channels"].values())
        return f"{percent_text(figure)} of {messages} messages"
    if key == "formal_trend":
        return f"{detail['now']} formal messages, {detail['before']} the window before"
    if key == "one_way":
        return f"{int(figure)} of {detail['active']} active channels"
    return f"{int(figure)} waiting" if figure else "none"  # unanswered requests


def _lapses_text(detail: dict) -> str:
    lapsed = [f"*{mrkdwn.escape(lapse['title'])}* {lapse['how']}" for lapse in detail["checkins"]]
    if detail["quiet_weeks"]:
        lapsed.append(f"none held for {detail['quiet_weeks']} weeks")
    return ", ".join(lapsed) if lapsed else "none"


def _left_out_text(index: HealthIndex, is_owner: bool) -> str:
    """What doesn't count and why, one line per reason; owners also hear about re-weighting."""
    if index.value is None:
        return ""
    by_reason: dict[str, list[str]] = {}
    for spec in formula.COMPONENTS:
        component = index.components[spec.key]
        if not component.counted and (is_owner or not spec.owners_only):
            by_reason.setdefault(component.why(), []).append(spec.label.lower())
    if not by_reason:
        return ""
    lines = [f"Not counted: {', '.join(labels)}, as {why}." for why, labels in by_reason.items()]
    if is_owner:
        covered = sum(formula.SPECS[key].weight for key in index.weights)
        lines.append(
            f"The rest share their weight: {covered} of the formula's 100 points have data."
        )
    return " ".join(lines)


def _empty_sides_text(index: HealthIndex, is_owner: bool) -> str:
    if not index.empty_sides:
        return ""
    side = index.empty_sides[0]  # never both: whoever asks is on one
    how = (
        f"`/rapport add @person {side}` adds people."
        if is_owner
        else "Ask an owner to add people (`/rapport show` lists them)."
    )
    return f"The {side} side has nobody in it yet, so its voice can't count. {how}"


def _footer(is_owner: bool) -> str:
    text = (
        "Pulse figures count only for groups big enough to stay anonymous, as in "
        "`/pulse results`. Stored once a week; `/rapport health` recomputes it now."
    )
    return text + (" How it's computed: `/rapport health formula`." if is_owner else "")


# ---------------------------------------------------------------------------- next step

WHY = {
    formula.PULSE: "Nobody has been asked how it's going lately.",
    formula.CHECKINS: "There are no regular check-ins yet: they keep people talking after go-live.",
    formula.TONE: "The watched channels are quiet this week.",
    "client_response": "Few on the client side answered the last pulse.",
    "provider_response": "Few on the provider side answered the last pulse.",
    "adherence": "Check-ins are slipping: fewer are held than planned.",
    "lapses": "Check-ins have lapsed.",
    "intros_met": "Few of the people introduced across the wall have met.",
    "formal_share": "Talk in the shared channels is turning formal.",
    "one_way": "Only one side is talking in a shared channel.",
    "formal_trend": "Formal messages are on the rise.",
}
PULSE_WHY = "How the two sides feel weighs most on the index right now."  # any pulse figure


def _step_blocks(report: HealthReport) -> Blocks:
    step = report.step
    text, chosen = _step(report, step)
    if not chosen:
        return [section(f"*Next step:* {text}")]
    return [
        section(f"*Next step:* {text}"),
        {"type": "actions", "elements": [chosen]},
    ]


def _step(report: HealthReport, step: NextStep) -> tuple[str, dict | None]:
    """What to do and the button that does it, where the person may."""
    why = WHY.get(step.about, PULSE_WHY)
    value = str(report.relationship_id)
    feedback = button("Give feedback now", GIVE_FEEDBACK_ACTION, value)
    if step.action == "send_pulse":
        if report.pulse_open:
            return "A pulse round is open now: add your voice while it lasts.", feedback
        if report.is_owner:
            return f"{why} Ask both sides now.", button(
                "Send a pulse now", SEND_NOW_ACTION, value, "primary"
            )
        return f"{why} Ask an owner to send a pulse, or give your own feedback now.", feedback
    if step.action == "answer_requests":
        channel, waiting = mrkdwn.channel(step.detail["channel"]), step.detail["waiting"]
        text = (
            f"{waiting} formal request{'s' if waiting != 1 else ''} waiting for an answer in "
            f"{channel}: a quick reply or a call clears them faster than a ticket."
        )
        return text, _catch_up(report) if report.is_owner else None
    if step.action == "watch_channel":
        who = "" if report.is_owner else "Ask an owner to "
        return f"{who}`/rapport watch #channel` your shared channel, so tone counts too.", None
    if step.action == "keep_going":
        return "Everything counted looks healthy. Keep the rhythm going.", None
    return f"{why} An informal catch-up helps before things turn formal.", _catch_up(report)


def _catch_up(report: HealthReport) -> dict:
    """Owners schedule a catch-up of both sides' owners; members add a check-in."""
    value = str(report.relationship_id)
    if report.is_owner:
        return button("Schedule an informal catch-up", CATCH_UP_ACTION, value, "primary")
    return button("Add a check-in", NEW_CHECKIN_ACTION, value)


# ------------------------------------------------------------------------------ formula


def formula_blocks() -> Blocks:
    """``/rapport health formula``: the formula as ``bot.health.formula`` defines it."""
    lines = [
        "*How the health index is computed*",
        "Each component below is scored from 0 (worst) to 100 (best); the index is their "
        "average weighted by the points shown, which add up to 100.",
    ]
    for pillar, label in formula.PILLARS.items():
        lines.append(f"*{label}* ({formula.pillar_weight(pillar)} points)")
        for spec in formula.COMPONENTS:
            if spec.pillar == pillar:
                owners = " (figure shown to owners only)" if spec.owners_only else ""
                lines.append(f"• {spec.label}, {spec.weight}: {spec.how}{owners}")
    bands = " · ".join(f"{floor}+ {name}" for floor, name in formula.BANDS[:-1])
    lines += [
        f"*Bands*: {bands} · below {formula.BANDS[-2][0]} {formula.BANDS[-1][1]}",
        "*Missing data*: a component without enough data (no pulse round closed in "
        f"{formula.PULSE_FRESH.days // 7} weeks, "
        "a side hidden to keep answers anonymous, no check-ins, fewer than "
        f"{formula.MIN_MESSAGES} messages in watched channels) is left out, and the others "
        "share its weight. With less than "
        f"{formula.MIN_COVERAGE} points of data there is no index.",
        "*Anonymity*: pulse figures are the ones `/pulse results` shows; a side below the "
        "minimum group size never counts, and the two sides' answers are never combined.",
    ]
    return [section("\n".join(lines)[:SECTION_LIMIT])]


BUSY = (
    "Rapport is working out a lot of health reports just now. "
    "Try `/rapport health` again in a minute."
)
FORMULA_TITLE = "How the health index is computed"


def _points(value: float) -> str:
    return decimal_text(value, 0)
