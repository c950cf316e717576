"""Block Kit messages for ``/rapport``: the words people read live next to the layout."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.relationships.domain import Membership
from bot.relationships.joint import Invite
from bot.relationships.members import MemberChange
from bot.relationships.models import Role, Side
from bot.relationships.summary import RelationshipSummary
from bot.slack import mrkdwn
from bot.slack.blocks import MESSAGE_BLOCKS, Blocks, button, section, sections

HELP_TEXT = """*Rapport keeps the informal relationship between a client and its provider alive.*
It asks front-line people on both sides how things are going, keeps check-ins happening after \
go-live, and warns owners when talk in shared channels turns formal.

*Relationships*
• `/rapport setup` — create a relationship between a client and a provider
• `/rapport list` — relationships you belong to
• `/rapport show [relationship]` — members by side and role, and channels
• `/rapport use <relationship>` — pick the one your commands act on
• `/rapport add @person client|provider [frontline|manager|owner]` — add or change someone
• `/rapport remove @person` — take someone out
• `/rapport watch #channel` / `/rapport unwatch #channel` — shared channels (you're in) to \
keep an eye on
• `/rapport alerts #channel` — where owners get alerts (a channel you're in)
Only owners change a relationship. In a watched or alerts channel, commands act on \
that channel's relationship; you can also add a relationship's name at the end.

*Two workspaces* (each company installs Rapport; you share a Slack Connect channel)
• `/rapport invite @owner` — a one-time code (24 hours) for the other company's owner
• `/rapport join <code>` — they join from their own workspace; each company then looks after \
its own people
• `/rapport leave` — back to one relationship per workspace; nothing is deleted

*Pulse and check-ins*
• `/pulse` — give anonymous feedback now; `/pulse results`, `/pulse help` for the rest
• `/checkin add "Ops catch-up" weekly tue 10:00 @alice @bob` — a recurring check-in; `/checkin help`

*Health*
• `/rapport health [relationship]` — one index from both sides' pulse, check-ins and tone, \
its 12-week trend, what changed since last week and the next step; owners see every component
• `/rapport health formula` — how the index is computed
• `/rapport digest` — the weekly health digest owners get (Monday 09:00 by default); owners \
change it: `/rapport digest on|off`, `/rapport digest day tuesday 08:30`, \
`/rapport digest channel|dm`

*Intros* — people from both sides paired for informal chats
• `/rapport intros [relationship]` — whether intros are on, when the next round is, and your \
own choice; owners also see how many groups met (never who)
• `/rapport intros on|off`, `every 1|2|4 weeks [on <day>]`, `size 2|3`, `default in|out`, \
`history <months>` — (owners) the settings
• `/rapport intros me on|off|pause <weeks>` — your own say

*Drift alerts* (owners) — when shared channels turn formal
• `/rapport drift settings` — thresholds, nudge and cue words
• `/rapport drift words list [kind]` — the kinds of cue (`sla_penalty`, …) and their words
• `/rapport drift words add|remove <kind> <words>` — tune what counts as formal (up to 200 \
words)
• `/rapport drift try <message>` — (members) how a message would score here; only you see \
it, nothing is kept
• `/rapport drift nudge on|off` — a private note to the author of a very formal message
• `/rapport drift set <setting> <value>` — e.g. `formal-share 30%`, `unanswered-hours 48`
• `/rapport drift bots on|off`, `/rapport drift excerpts` — other bots; kept excerpts (opt-in)

*Your data*
• `/rapport export [relationship]` — (owners) pulse results, check-in history and drift \
figures as CSV files, sent to you by DM; nothing in them names anyone
• `/rapport forget-me` — remove yourself and your personal data from Rapport in this \
workspace (anonymous results stay)"""


MEMBERSHIPS_TITLE = "Your relationships"
NOT_INSTALLED_TEXT = (
    "Rapport isn't installed in this workspace, so it couldn't reach your side's people. "
    "Ask a workspace admin to install it (the *Add to Slack* page of your Rapport), then "
    "run `/rapport join` again: the code keeps for 24 hours."
)


def help_sections() -> Blocks:
    """The help, a section per heading: one section holds at most 3,000 characters."""
    return [section(part) for part in HELP_TEXT.split("\n\n")]


def help_blocks() -> Blocks:
    return [
        *help_sections(),
        {
            "type": "actions",
            "elements": [button("Set up a relationship", "open_setup", style="primary")],
        },
    ]


def relationship_title(name: str, client_org: str, provider_org: str) -> str:
    return (
        f"*{mrkdwn.escape(name)}* — {mrkdwn.escape(client_org)} (client) ⇄ "
        f"{mrkdwn.escape(provider_org)} (provider)"
    )


def memberships_blocks(memberships: list[Membership]) -> Blocks:
    if not memberships:
        return [
            section(
                "You're not part of a relationship yet. `/rapport setup` creates one, "
                "or ask an owner to add you."
            )
        ]
    lines = [
        f"• {relationship_title(m.name, m.client_org, m.provider_org)}: "
        f"you're {m.side.value} {m.role.value}"
        for m in memberships
    ]
    return sections(["*Your relationships*", *lines], MESSAGE_BLOCKS, what="more relationships")


def _people_line(people: dict[Role, list[str]]) -> str:
    parts = [
        f"{role.value}s: {mrkdwn.people(user_ids)}" for role, user_ids in people.items() if user_ids
    ]
    return "; ".join(parts) if parts else "nobody yet"


def summary_blocks(summary: RelationshipSummary) -> Blocks:
    channels = ", ".join(mrkdwn.channel(c) for c in summary.watched_channels) or "none yet"
    alerts = (
        mrkdwn.channel(summary.alerts_channel)
        if summary.alerts_channel
        else "none — owners get alerts by DM"
    )
    lines = [
        relationship_title(summary.name, summary.client_org, summary.provider_org),
        *(
            f"*{side.value.capitalize()}* ({mrkdwn.escape(org)}): "
            f"{_people_line(summary.people[side])}"
            for side, org in (
                (Side.CLIENT, summary.client_org),
                (Side.PROVIDER, summary.provider_org),
            )
        ),
        f"*Watched channels:* {channels}",
        f"*Alerts:* {alerts}",
    ]
    if summary.organisations:
        mapped = ", ".join(
            f"{mrkdwn.escape(name)} → {side.value}" for name, side in summary.organisations
        )
        lines.append(f"*Organisations in shared channels:* {mapped}")
    if summary.joint:
        lines.append(
            "*Workspaces:* each company's own; its owners look after its people "
            "(`/rapport leave` ends this)"
        )
    if summary.departed is not None:
        org = summary.client_org if summary.departed is Side.CLIENT else summary.provider_org
        lines.append(side_left_text(summary.departed, org))
    return sections(lines, MESSAGE_BLOCKS)


def side_left_notice(name: str, side: Side, org: str) -> str:
    return f"*{mrkdwn.escape(name)}*: {side_left_text(side, org)}"


def side_left_text(side: Side, org: str) -> str:
    return (
        f":warning: *The {side.value} side has left:* {mrkdwn.escape(org)} uninstalled "
        "Rapport from their workspace, so their people get no prompts, reminders or intros. "
        "Results so far stay, and rounds close with the answers given. If it was a mistake, "
        "their admin can install it again and everything resumes."
    )


_OUTCOME_WORDS = {
    "added": "added",
    "updated": "updated",
    "unchanged": "already set that way",
    "removed": "removed",
    "not a member": "wasn't a member",
}


def member_changes_text(
    relationship_name: str,
    changes: list[MemberChange],
    side: Side | None = None,
    role: Role | None = None,
) -> str:
    """Who was added, changed or removed; with the ``side`` and ``role`` they were given."""
    how = f"{side.value} {role.value}" if side and role else ""
    lines = [
        f"• {mrkdwn.user(change.user_id)} {_OUTCOME_WORDS[change.outcome]}"
        + (f" as {how}" if how and change.outcome in ("added", "updated") else "")
        for change in changes
    ]
    return f"*{mrkdwn.escape(relationship_name)}*\n" + "\n".join(lines)


def now_using_text(name: str, run_again: bool = False) -> str:
    """``/rapport use``, or a pick from the relationships offered (``run_again``)."""
    text = f"Got it: your commands now act on *{mrkdwn.escape(name)}*."
    return f"{text} Run your command again." if run_again else text


def checking_membership_text(channel_id: str) -> str:
    return f"Checking with Slack that you're in {mrkdwn.channel(channel_id)}…"


def already_watching_text(channel_id: str, name: str) -> str:
    return f"I'm already watching {mrkdwn.channel(channel_id)} for *{mrkdwn.escape(name)}*."


def unwatched_text(channel_id: str, name: str, was_watched: bool) -> str:
    channel, name = mrkdwn.channel(channel_id), mrkdwn.escape(name)
    if was_watched:
        return f"Stopped watching {channel} for *{name}*."
    return f"{channel} wasn't being watched for *{name}*."


def _watching(channel_id: str, name: str) -> str:
    return f"Watching {mrkdwn.channel(channel_id)} for *{mrkdwn.escape(name)}*."


def unseen_channel_text(channel_id: str, name: str) -> str:
    """Watching, but Slack won't show Rapport the channel (private, Rapport not in it)."""
    return (
        f"{_watching(channel_id, name)} I can't see {mrkdwn.channel(channel_id)} yet. If it's "
        "private, type `/invite @Rapport` in it so I can listen."
    )


def watching_message(
    relationship_id: int,
    name: str,
    channel_id: str,
    needs_invite: bool,
    organisations: list[tuple[str, str]],
) -> tuple[str, Blocks | None]:
    """The answer to ``/rapport watch``: the step left if Rapport must be invited, and the
    sides of a Slack Connect channel's organisations to pick."""
    watching = _watching(channel_id, name)
    if needs_invite:
        watching += (
            f" One more step: type `/invite @Rapport` in {mrkdwn.channel(channel_id)} "
            "so I can listen there."
        )
    if not organisations:
        return watching, None
    return f"{watching} Which side is each organisation on?", [
        section(watching),
        *organisation_mapping_blocks(relationship_id, name, channel_id, organisations),
    ]


def alerts_channel_text(channel_id: str, name: str) -> str:
    return (
        f"Alerts for *{mrkdwn.escape(name)}* will go to {mrkdwn.channel(channel_id)}. "
        "Invite me there if it's private."
    )


def organisation_side_text(org_name: str, side: Side, name: str) -> str:
    return (
        f"Everyone from *{mrkdwn.escape(org_name)}* now counts as the {side.value} side of "
        f"*{mrkdwn.escape(name)}*."
    )


def created_text(name: str) -> str:
    return f"{mrkdwn.escape(name)} is set up."


def choice_blocks(message: str, choices: list[tuple[int, str]]) -> Blocks:
    return [
        section(message),
        {
            "type": "actions",
            "elements": [
                button(name, f"use_relationship_{rel_id}", str(rel_id))
                for rel_id, name in choices[:25]
            ],
        },
    ]


def organisation_mapping_blocks(
    relationship_id: int, relationship_name: str, channel_id: str, orgs: list[tuple[str, str]]
) -> Blocks:
    """Ask an owner which side each organisation in a Slack Connect channel is on."""
    blocks: Blocks = [
        section(
            f"{mrkdwn.channel(channel_id)} is shared between {len(orgs)} organisations. "
            f"Which side is each one on in *{mrkdwn.escape(relationship_name)}*? "
            "Everyone from an organisation then counts for its side."
        )
    ]
    for org_id, org_name in orgs:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{mrkdwn.escape(org_name)}*"},
                "accessory": {
                    "type": "static_select",
                    "action_id": f"map_organisation_{org_id}",
                    "placeholder": {"type": "plain_text", "text": "Choose a side"},
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": side.value.capitalize()},
                            # Slack caps option values at 150 characters
                            "value": f"{relationship_id}|{org_id}|{side.value}|{org_name}"[:150],
                        }
                        for side in Side
                    ],
                },
            }
        )
    return blocks


def help_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Rapport help"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": help_sections(),
    }


def created_blocks(summary: RelationshipSummary, left_out: list[str] | None = None) -> Blocks:
    """The DM the creator gets once a relationship is set up, with the next steps; the
    reasons any channel picked in the modal was ``left_out``."""
    title = relationship_title(summary.name, summary.client_org, summary.provider_org)
    return [
        section(f":handshake: {title} is set up."),
        *summary_blocks(summary),
        *(
            [
                section(
                    "*Channels left out*\n"
                    + "\n".join(f"• {why}" for why in left_out)
                    + "\nAdd them with `/rapport watch #channel` or `/rapport alerts #channel`."
                )
            ]
            if left_out
            else []
        ),
        section(
            "*Next steps*\n"
            "• Type `/invite @Rapport` in each shared channel so I can keep an eye on it.\n"
            "• `/rapport add @person client|provider [role]` adds people later.\n"
            "• `/rapport show` shows everyone and every channel."
        ),
    ]


def _until(when: datetime) -> str:
    """A time Slack shows in each reader's own time zone."""
    fallback = f"{when:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def invite_text(name: str, invite: Invite) -> str:
    who = mrkdwn.user(invite.invitee_id)
    return (
        f":envelope_with_arrow: Invite code for *{mrkdwn.escape(name)}*: `{invite.code}`\n"
        f"Send it to {who}, for instance in your shared channel. In *their company's* "
        f"workspace, where Rapport must be installed too, they type `/rapport join "
        f"{invite.code}` and become the {invite.side.value} side's owner. From then on each "
        "company adds its own people and Rapport reaches them through their own workspace.\n"
        f"The code works once, only for {who}, until {_until(invite.expires_at)}."
    )


def joined_text(name: str, side: Side, own_org: str, other_org: str) -> str:
    return (
        f":handshake: You've joined *{mrkdwn.escape(name)}* as an owner on the {side.value} "
        f"side ({mrkdwn.escape(own_org)}). Rapport reaches your side's people through this "
        f"workspace: add them with `/rapport add @person {side.value} "
        "[frontline|manager|owner]`. Pulse results, drift figures and check-ins are shared "
        f"with {mrkdwn.escape(other_org)}'s owners; your people's personal data stays with "
        "this workspace."
    )


def partner_joined_text(name: str, joiner: str, org: str) -> str:
    return (
        f":handshake: {mrkdwn.user(joiner)} joined *{mrkdwn.escape(name)}* from "
        f"{mrkdwn.escape(org)}'s own workspace. Each company now looks after its own people; "
        "results, drift figures and check-ins stay shared."
    )


def host_left_text(name: str, parted_name: str, partner_side: Side) -> str:
    return (
        f"*{mrkdwn.escape(name)}* lives in this workspace only again. The {partner_side.value} "
        f"side's people are now in *{mrkdwn.escape(parted_name)}* in their own workspace, "
        "with the health history so far. Nothing was deleted: the pulse rounds, check-ins "
        "and drift history of your time together stay here."
    )


def partner_left_own_text(name: str, parted_name: str) -> str:
    return (
        f"You've left the joint *{mrkdwn.escape(name)}*. Your side's people are now in "
        f"*{mrkdwn.escape(parted_name)}* in this workspace, with the health history so far. "
        "Nothing was deleted: the pulse rounds, check-ins and drift history of your time "
        "together stay with the workspace that created it."
    )


def partner_left_text(name: str, leaver: str, org: str) -> str:
    return (
        f"{mrkdwn.user(leaver)} ended the joint set-up of *{mrkdwn.escape(name)}*: "
        f"{mrkdwn.escape(org)} and your company each have a one-sided relationship again. "
        "Nothing was deleted. `/rapport show` shows who is left on each side."
    )
