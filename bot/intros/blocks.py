"""Everything intros say, and the Block Kit that says it: the settings reply, the first-round
invitation, the intro itself (group DM, or one DM each when Slack refuses the group), the
nudge, *Did you meet?*, and the owners' notice of a skipped round."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.time_words import DAY_NAMES
from bot.intros.figures import RoundFigures
from bot.intros.groups import GroupToIntroduce, IntroPerson
from bot.intros.settings import Change
from bot.slack import mrkdwn
from bot.slack.blocks import Blocks, button, context, section

COUNT_ME_IN, NOT_FOR_ME = "intro_count_me_in", "intro_not_for_me"
# a time's button: "intro_suggest_time_<n>", Slack refusing an action_id used twice in a
# block (one intro, before there were several times, had it bare)
SUGGEST_TIME = "intro_suggest_time"
MET_YES, MET_NOT_YET, MET_SKIP = "intro_met_yes", "intro_met_not_yet", "intro_met_skip"
ANSWER_ACTIONS = (MET_YES, MET_NOT_YET, MET_SKIP)

ABOUT = (
    "Rapport introduces people from both sides of the relationship for a short, informal "
    "chat, a few at a time, so you know the people behind the tickets."
)
ROLE_WORDS = {"frontline": "front-line", "manager": "manager", "owner": "owner"}
SKIP_REASONS = {
    "no_client": "nobody on the client side is in for intros",
    "no_provider": "nobody on the provider side is in for intros",
}


def _local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%a %H:%M")


def _day(day: date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.day} {day:%B}"


# ------------------------------------------------------------------------------ settings


def settings_blocks(
    name: str,
    enabled: bool,
    every_weeks: int,
    weekday: int,
    size: int,
    default_in: bool,
    history_months: int,
    next_day: date | None,
    mine: str,
    figures: list[RoundFigures] | None,
) -> tuple[str, Blocks]:
    title = f"Intros in {mrkdwn.escape(name)}"
    state = "on" if enabled else "off (owners turn them on with `/rapport intros on`)"
    lines = [
        f"*{title}*: {state}",
        f"• every {every_weeks} week{'s' if every_weeks > 1 else ''} on "
        f"{DAY_NAMES[weekday]}, in {'pairs' if size == 2 else 'trios'}",
        f"• people who never answered are {'in' if default_in else 'out'}; "
        f"who met whom is kept {history_months} months",
        f"• you: {mine}",
    ]
    if enabled and next_day is not None:
        lines.insert(1, f"• next round: {_day(next_day)}")
    blocks = [section("\n".join(lines)), context(ABOUT)]
    if figures is not None:
        blocks.append(section(_figures_text(figures)))
    return title, blocks


def _figures_text(figures: list[RoundFigures]) -> str:
    if not figures:
        return "*Rounds* (owners): none yet."
    lines = ["*Rounds* (owners see counts only, never who met whom)"]
    for round_figures in figures:
        if round_figures.skipped:
            lines.append(
                f"• {_day(round_figures.day)}: skipped, {SKIP_REASONS[round_figures.skipped]}"
            )
            continue
        rate = round_figures.met_rate
        met = f"{rate:.0%} met" if rate is not None else "still running"
        lines.append(f"• {_day(round_figures.day)}: {round_figures.groups} groups, {met}")
    rates = [f.met_rate for f in figures if f.met_rate is not None]
    if len(rates) >= 2:
        change = rates[-1] - rates[-2]
        trend = (
            "steady"
            if abs(change) < 0.005
            else f"{'up' if change > 0 else 'down'} {abs(change):.0%}"
        )
        lines.append(f"Trend: {trend} since the round before.")
    return "\n".join(lines)


def my_state(choice: str | None, paused_until: date | None, default_in: bool) -> str:
    if paused_until is not None:
        return f"paused until {_day(paused_until)}"
    if choice == "out":
        return "not taking part (`/rapport intros me on` to join)"
    if choice == "in" or default_in:
        return "in (`/rapport intros me off` to step out, `me pause 4` for a break)"
    return "out until you say `/rapport intros me on`"


def changed_text(change: Change, next_day: date | None) -> str:
    if change.setting == "on":
        when = f" The first round is on {_day(next_day)}." if next_day else ""
        return f"Intros are on.{when} Everyone gets a short note first, with a way to say no."
    if change.setting == "off":
        return "Intros are off. Nobody will be paired until an owner turns them on again."
    if change.setting == "every":
        when = f" Next round: {_day(next_day)}." if next_day else ""
        return f"Intros now run every {change.value} week(s).{when}"
    if change.setting == "size":
        return f"Intros now come in {'pairs' if change.value == 2 else 'trios'}."
    if change.setting == "default":
        state = "paired" if change.value else "left out"
        return f"People who never answered are now {state}."
    return f"Who met whom is now kept {change.value} months, then deleted."


def me_text(operation: str, until: date | None) -> str:
    if until is not None:
        return f"Paused: no intros for you until {_day(until)}."
    if operation == "on":
        return "You're in: you'll be introduced to someone from the other side next round."
    return "You're out of intros. `/rapport intros me on` brings you back any time."


# ------------------------------------------------------------------------------ messages


def invitation(relationship_id: int, name: str, default_in: bool) -> tuple[str, Blocks]:
    text = f"Intros are starting in {mrkdwn.escape(name)}"
    default = (
        "If you don't answer, you'll be included; you can step out from any intro."
        if default_in
        else "You'll only be paired if you say yes."
    )
    value = str(relationship_id)
    return text, [
        section(f"*{text}* :wave:\n{ABOUT}\n{default}"),
        {
            "type": "actions",
            "elements": [
                button("Count me in", COUNT_ME_IN, value, "primary"),
                button("Not for me", NOT_FOR_ME, value),
            ],
        },
    ]


def _who(person: IntroPerson, at: datetime) -> str:
    role = ROLE_WORDS.get(person.role, person.role)
    return (
        f"{mrkdwn.user(person.user_id)}, {role} at {mrkdwn.escape(person.organisation)} "
        f"({_local(at, ZoneInfo(person.tz))} for them)"
    )


def intro_message(
    group: GroupToIntroduce,
    starter: str,
    slots: list[datetime],
    now: datetime,
    to: str | None = None,
) -> tuple[str, Blocks]:
    """The intro: in the group DM (``to`` None), or the DM to ``to`` naming the others."""
    others = [p for p in group.people if p.user_id != to]
    if to is None:
        text = "Meet each other: " + ", ".join(mrkdwn.user(p.user_id) for p in group.people)
        lines = ["*Time to meet!* :wave: " + ABOUT, *("• " + _who(p, now) for p in group.people)]
    else:
        text = "Meet " + ", ".join(mrkdwn.user(p.user_id) for p in others)
        links = ", ".join(
            f"<slack://user?team={group.team_id}&id={p.user_id}|message>" for p in others
        )
        lines = [
            "*Time to meet!* :wave: " + ABOUT,
            *("• " + _who(p, now) for p in others),
            f"Slack couldn't put you in one conversation, so send them a note ({links}).",
        ]
    lines.append(f"_To break the ice:_ {starter}")
    blocks = [section("\n".join(lines))]
    if slots:
        blocks.append(context(_slots_text(group.people, slots)))
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button(
                        f"Suggest {slot:%a %H:%M} UTC",
                        f"{SUGGEST_TIME}_{n}",
                        f"{group.group_id}:{int(slot.timestamp())}",
                    )
                    for n, slot in enumerate(slots)
                ],
            }
        )
    else:
        blocks.append(context("Your working hours don't overlap: pick a time that suits you both."))
    blocks.append(
        {
            "type": "actions",
            "elements": [button("Not for me", NOT_FOR_ME, str(group.relationship_id))],
        }
    )
    return text, blocks


def _slots_text(people: list[IntroPerson], slots: list[datetime]) -> str:
    rows = []
    for slot in slots:
        local = ", ".join(
            f"{_local(slot, ZoneInfo(p.tz)).split()[1]} for {mrkdwn.user(p.user_id)}"
            for p in people
        )
        rows.append(f"{slot:%a %H:%M} UTC = {local}")
    return "Times inside everyone's working hours: " + "; ".join(rows)


def suggestion_text(user_id: str, slot: datetime, people: list[IntroPerson]) -> str:
    local = ", ".join(
        f"{_local(slot, ZoneInfo(p.tz))} for {mrkdwn.user(p.user_id)}" for p in people
    )
    return f"{mrkdwn.user(user_id)} suggests {local}. Put it in your calendars!"


NUDGE = (
    "A gentle nudge :slightly_smiling_face: Have you found a time for a chat yet? "
    "Even fifteen minutes counts."
)


def follow_up(group_id: int) -> tuple[str, Blocks]:
    text = "Did you meet?"
    value = str(group_id)
    return text, [
        section(
            f"*{text}* Rapport asks so owners can see how intros are going: they only "
            "ever see counts, never who met whom."
        ),
        {
            "type": "actions",
            "elements": [
                button("Yes", MET_YES, value, "primary"),
                button("Not yet", MET_NOT_YET, value),
                button("Skip this one", MET_SKIP, value),
            ],
        },
    ]


ANSWERED = {
    MET_YES: "Lovely, thanks for letting me know :tada:",
    MET_NOT_YET: "No worries: there's still time to say hello.",
    MET_SKIP: "Skipped. See you next round.",
}
COUNTED_IN = "You're in: watch for an intro to someone from the other side."
COUNTED_OUT = "You're out of intros. `/rapport intros me on` brings you back any time."


def skipped_notice(name: str, reason: str) -> str:
    return (
        f"This round of intros in {mrkdwn.escape(name)} was skipped: {SKIP_REASONS[reason]}. "
        "I'll try again next round; `/rapport intros` shows the settings."
    )
