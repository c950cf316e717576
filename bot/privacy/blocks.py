"""What people read around ``/rapport export`` and ``/rapport forget-me``."""

from __future__ import annotations

from bot.privacy.export import Export
from bot.privacy.rights import ForgetReport, OwnerlessSide
from bot.slack import mrkdwn
from bot.slack.blocks import Blocks, button, section

EXPORT_PREPARING = "Preparing your export… I'll send it to you in a DM."
FORGET_CONFIRM = "Forget you? This can't be undone."
FORGET_CANCELLED = "Okay, I haven't forgotten anything."
FORGET_NOT_YOURS = (
    "This button is for the person who asked to be forgotten. "
    "`/rapport forget-me` forgets you, if that's what you'd like."
)


def export_comment(export: Export) -> str:
    return (
        f"Here's the export of *{mrkdwn.escape(export.relationship_name)}*: pulse results per "
        f"round and side (left blank for groups under {export.min_group}, as in "
        "`/pulse results`), check-in history, and drift figures per channel and "
        f"{export.window_days}-day window, with the health charts of the last 12 weeks. "
        "Nothing in it names anyone."
    )


def export_failed_text(error: str | None) -> str:
    said = f" (Slack said `{mrkdwn.escape(error)}`)" if error else ""
    return f"I couldn't send your export{said}. Try `/rapport export` again in a moment."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def forget_confirm_blocks(user_id: str, ownerless: list[OwnerlessSide]) -> Blocks:
    """The confirmation, with both buttons carrying who asked (the click is re-checked)."""
    lines = [
        "*Forget you?* I'll take you out of every relationship in this workspace and delete "
        "your check-in places, RSVPs, time zone and the record of messages I sent you. Your "
        "answers in closed pulse rounds stay in the anonymous results, no longer linked to "
        "you; those in a round still open are withdrawn. Drift figures keep your messages as "
        "counts without your name. *This can't be undone.*"
    ]
    lines += [
        f"You're the last {side.side.value} owner of *{mrkdwn.escape(side.relationship_name)}*: "
        f"it will have no {side.side.value} owner, and its other owners will be told."
        for side in ownerless
    ]
    return [
        section("\n".join(lines)),
        {
            "type": "actions",
            "elements": [
                button("Forget me", "forget_me_confirm", user_id, style="danger"),
                button("Cancel", "forget_me_cancel", user_id),
            ],
        },
    ]


def forgotten_text(report: ForgetReport) -> str:
    """What went, one line per kind of data there was (nothing is listed at zero)."""
    lines = [
        (report.memberships, f"removed you from {_plural(report.memberships, 'relationship')}"),
        (report.checkins_left, f"took you out of {_plural(report.checkins_left, 'check-in')}"),
        (report.rsvps, f"deleted {_plural(report.rsvps, 'RSVP')}"),
        (
            report.checkins_handed_over,
            f"handed {_plural(report.checkins_handed_over, 'check-in')} you organised to an owner",
        ),
        (
            report.pulse_prompts,
            f"removed your name from {_plural(report.pulse_prompts, 'pulse prompt')}",
        ),
        (
            report.pulse_rounds_unlinked,
            f"unlinked your answers in {_plural(report.pulse_rounds_unlinked, 'pulse round')} "
            "from you; they stay in the anonymous results",
        ),
        (
            report.pulse_rounds_withdrawn,
            f"withdrew your answers from {_plural(report.pulse_rounds_withdrawn, 'pulse round')} "
            "still open",
        ),
        (
            report.messages_anonymised,
            f"kept {_plural(report.messages_anonymised, 'message')} of yours in watched channels "
            "as counts only, without your name",
        ),
        (
            report.ledger_rows,
            f"deleted the record of {_plural(report.ledger_rows, 'message')} I sent you",
        ),
        (report.profile, "deleted your time zone and `/rapport use` choice"),
        (report.intros, "deleted your intro choices, who you were introduced to and your answers"),
    ]
    done = [f"• {line}" for count, line in lines if count]
    if not done:
        return "There was nothing about you to forget in this workspace."
    text = "Done. In this workspace I've:\n" + "\n".join(done)
    for side in report.ownerless:
        told = (
            "its other owners have been told" if side.remaining_owners else "nobody is left to tell"
        )
        text += (
            f"\nYou were the last {side.side.value} owner of "
            f"*{mrkdwn.escape(side.relationship_name)}*: {told}."
        )
    return text


def ownerless_notice_text(side: OwnerlessSide) -> str:
    name = mrkdwn.escape(side.relationship_name)
    return (
        f"*{name}* has no {side.side.value} owner any more: its last one asked Rapport to "
        f"forget them. Add one with `/rapport add @person {side.side.value} owner {name}` so "
        "both sides hear about alerts."
    )
