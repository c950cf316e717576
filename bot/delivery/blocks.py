"""The notice owners get when Slack refused messages for good: who or where, and the fix."""

from __future__ import annotations

from bot.delivery.failures import FailureNotice, Refusal, is_person
from bot.slack import mrkdwn
from bot.slack.blocks import Blocks, context, section

REASONS = {
    "user_not_found": "not found",
    "account_inactive": "deactivated",
    "user_disabled": "deactivated",
    "cannot_dm_bot": "a bot",
    "channel_not_found": "not found, or private without Rapport",
    "not_in_channel": "Rapport isn't in it",
    "is_archived": "archived",
    "restricted_action": "posting is restricted",
}
INVITE = "`/invite @Rapport`"


def refusals_text(refusals: tuple[Refusal, ...]) -> str:
    """``<@U1>, <@U2> (deactivated); <@U3> (not found)``: grouped by reason, reasons and
    names sorted, so the same refusals read the same whatever order the sends ended in
    (a workspace's sends run several at a time)."""
    by_reason: dict[str, list[str]] = {}
    for refusal in refusals:
        shown = (mrkdwn.user if is_person(refusal.target) else mrkdwn.channel)(refusal.target)
        by_reason.setdefault(REASONS.get(refusal.error, refusal.error), []).append(shown)
    return "; ".join(
        f"{', '.join(sorted(shown))} ({reason})" for reason, shown in sorted(by_reason.items())
    )


def failure_message(notice: FailureNotice) -> tuple[str, Blocks]:
    """The notice's fallback text and its blocks: one paragraph per kind of problem."""
    name = mrkdwn.escape(notice.relationship_name)
    paragraphs = []
    if notice.members:
        count = len(notice.members)
        paragraphs.append(
            f"Rapport couldn't reach {count} member{'s' if count != 1 else ''} of *{name}*: "
            f"{refusals_text(notice.members)}. If someone has left, "
            "`/rapport remove @person` stops Rapport writing to them."
        )
    if notice.alerts_channels:
        paragraphs.append(
            f"Rapport couldn't post owners' alerts for *{name}* in "
            f"{refusals_text(notice.alerts_channels)}. Pick another channel with "
            f"`/rapport alerts #channel`, or invite Rapport there ({INVITE})."
        )
    if notice.checkin_channels:
        paragraphs.append(
            f"Rapport couldn't post check-in reminders for *{name}* in "
            f"{refusals_text(notice.checkin_channels)}. Invite Rapport there ({INVITE}), "
            "or change the check-in with `/checkin edit`."
        )
    blocks: Blocks = [section(paragraph) for paragraph in paragraphs]
    blocks.append(context("Each of these is reported once; Rapport doesn't retry them."))
    return "\n".join(paragraphs), blocks
