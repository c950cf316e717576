"""The send ledger's idempotency keys, every format in one place. A key names what a
message is about and who gets it, so the same message is claimed (and sent) once however
often, and by however many processes, a job runs. Changing a format re-sends what was
already sent under the old one: don't, for messages that may still be due.
"""

from __future__ import annotations

from datetime import date, datetime

CHECKIN_FOLLOW_UP = "checkin-followup:"  # + occurrence id (queried by prefix in SQL)


def pulse_prompt(round_id: int, user_id: str) -> str:
    return f"pulse-prompt:{round_id}:{user_id}"


def pulse_reminder(round_id: int, user_id: str) -> str:
    return f"pulse-reminder:{round_id}:{user_id}"


def pulse_alert(round_id: int, kind: str, side: str, recipient: str) -> str:
    return f"pulse-alert:{round_id}:{kind}:{side}:{recipient}"


def checkin_reminder(occurrence_id: int, recipient: str, offset_minutes: int) -> str:
    """``recipient``: a participant, or the check-in's channel."""
    return f"checkin-reminder:{occurrence_id}:{recipient}:{offset_minutes}"


def checkin_follow_up(occurrence_id: int) -> str:
    return f"{CHECKIN_FOLLOW_UP}{occurrence_id}"


def checkin_lapse_in_a_row(checkin_id: int, last_occurrence_id: int) -> str:
    return f"checkin-lapse:{checkin_id}:in-a-row:{last_occurrence_id}"


def checkin_lapse_quiet(relationship_id: int, since: datetime) -> str:
    return f"checkin-lapse:rel{relationship_id}:quiet:{since:%Y%m%dT%H%M}"


def checkin_lapse_stretched(checkin_id: int, occurrence_id: int) -> str:
    return f"checkin-lapse:{checkin_id}:stretched:{occurrence_id}"


def drift_alert(alert_id: int, recipient: str) -> str:
    return f"drift-alert:{alert_id}:{recipient}"


def delivery_notice(notice_id: int, recipient: str) -> str:
    return f"delivery-notice:{notice_id}:{recipient}"


def side_without_owner(relationship_id: int, membership_id: int, owner: str) -> str:
    """Forget-me left a side of a relationship without an owner: told to ``owner`` once."""
    return f"side-without-owner:{relationship_id}:{membership_id}:{owner}"


def intro_invitation(relationship_id: int, user_id: str) -> str:
    return f"intro-invite:{relationship_id}:{user_id}"


def intro(group_id: int, user_id: str | None = None) -> str:
    """The intro in the group DM, or (``user_id``) the DM sent when Slack refused the group."""
    return f"intro:{group_id}" if user_id is None else f"intro:{group_id}:{user_id}"


def intro_nudge(group_id: int, user_id: str | None = None) -> str:
    return f"intro-nudge:{group_id}" if user_id is None else f"intro-nudge:{group_id}:{user_id}"


def intro_follow_up(group_id: int, user_id: str) -> str:
    return f"intro-followup:{group_id}:{user_id}"


def intro_round_skipped(round_id: int, owner: str) -> str:
    return f"intro-skipped:{round_id}:{owner}"


def health_digest(relationship_id: int, recipient: str, week: date) -> str:
    """``recipient``: an owner, or the alerts channel; ``week``: the Monday of the local week
    it is sent in."""
    return f"health-digest:{relationship_id}:{recipient}:{week.isoformat()}"


def partner_news(relationship_id: int, news: str, at: datetime, owner: str) -> str:
    """An owner told what the other company did (``news``: "provider-joined", "client-left",
    "provider-uninstalled", …) at ``at``: once per event (a reinstall and a later uninstall
    tell them again)."""
    return f"partner-news:{relationship_id}:{news}:{at:%Y%m%dT%H%M%S}:{owner}"
