"""Block Kit and words for the weekly health digest and ``/rapport digest``.

The digest is ``/rapport health`` as an owner sees it (``bot.health.blocks``, buttons
included) with the index chart (or its figures in words when the picture couldn't be
uploaded), under a heading, and the check-ins coming up."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.checkins.blocks import when
from bot.core.time_words import DAY_NAMES
from bot.health.blocks import health_blocks
from bot.health.digest import DigestSettings, UpcomingCheckIn
from bot.health.report import HealthReport
from bot.slack import mrkdwn
from bot.slack.blocks import Blocks, context, picture, section

USAGE = (
    "`/rapport digest`, `/rapport digest on|off`, `/rapport digest day <day> <time>` "
    "(e.g. `day tuesday 08:30`), `/rapport digest channel|dm`"
)


def digest_text(report: HealthReport) -> str:
    """The notification's words: the relationship, its index and band."""
    name = mrkdwn.escape(report.name)
    if report.index.value is None:
        return f"Weekly health digest of {name}"
    return f"Weekly health digest of {name}: {report.index.value:.0f}/100, {report.index.band}"


def digest_blocks(
    report: HealthReport, chart: dict[str, Any] | None, upcoming: list[UpcomingCheckIn]
) -> Blocks:
    """``chart``: the index chart's image block; None when it couldn't be uploaded, and
    then its figures show in words in its place."""
    if chart is None:
        chart = picture(None, report.charts.index.alt_text())
    blocks: Blocks = [section(f"*Weekly health digest* · {mrkdwn.escape(report.name)}")]
    blocks.extend(health_blocks(report, chart))
    blocks.append(section(_upcoming_text(upcoming)))
    blocks.append(
        context(
            "Sent every week to the owners of both sides. `/rapport digest` shows when and "
            "where; `/rapport digest off` stops it."
        )
    )
    return blocks


def _upcoming_text(upcoming: list[UpcomingCheckIn]) -> str:
    if not upcoming:
        return "*Coming up*: no check-ins in the next 7 days."
    lines = [f"• *{mrkdwn.escape(i.title)}* {when(i.starts_at, i.tz)}" for i in upcoming]
    return "*Coming up in the next 7 days*\n" + "\n".join(lines[:10])


# ----------------------------------------------------------------------- /rapport digest


def settings_text(
    name: str,
    settings: DigestSettings,
    alerts_channel: str | None,
    next_at: datetime | None,
    tz: ZoneInfo,
) -> str:
    """What ``/rapport digest`` answers: on or off, when, where, and the next one (shown in
    ``tz``; None for a member, who gets no digest)."""
    name = mrkdwn.escape(name)
    if not settings.enabled:
        return (
            f"The weekly health digest of *{name}* is *off*. `/rapport digest on` sends it "
            f"again, {_when(settings)}."
        )
    if settings.to_channel and alerts_channel:
        where = f"in {mrkdwn.channel(alerts_channel)}, once, when the first owner's time comes"
    else:
        where = "by DM to each owner of both sides, in their own time zone"
    lines = [f"The weekly health digest of *{name}* is *on*: {_when(settings)}, {where}."]
    if next_at is not None:
        local = next_at.astimezone(tz)
        lines.append(f"Next one: {local:%A} {local.day} {local:%B}, {local:%H:%M} ({tz.key}).")
    lines.append(f"Owners change it: {USAGE}.")
    return "\n".join(lines)


def changed_text(name: str, settings: DigestSettings) -> str:
    name = mrkdwn.escape(name)
    if not settings.enabled:
        return f"The weekly health digest of *{name}* is off."
    where = "in the alerts channel" if settings.to_channel else "by DM to each owner"
    return f"The weekly health digest of *{name}* goes out {_when(settings)}, {where}."


def _when(settings: DigestSettings) -> str:
    return f"every {DAY_NAMES[settings.weekday]} at {settings.send_at:%H:%M}"
