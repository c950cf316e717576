"""One suggested next step, from the weakest part of the index.

Each counted component has lost ``weight × (100 − score) / 100`` points; a pillar with no
data at all counts as having lost ``MISSING_PILLAR_SHARE`` of its weight, since starting
it (a first pulse, a first check-in, a watched channel) is often the most useful move. The
biggest loss decides, the formula's order breaking ties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.health import formula
from bot.health.figures import HealthIndex

MISSING_PILLAR_SHARE = 0.5

# what to do about each component, and about a pillar with no data
ACTIONS = {
    "client_pulse": "catch_up",
    "provider_pulse": "catch_up",
    "client_response": "send_pulse",
    "provider_response": "send_pulse",
    "side_gap": "catch_up",
    "role_gap": "catch_up",
    "adherence": "catch_up",
    "lapses": "catch_up",
    "intros_met": "catch_up",
    "formal_share": "catch_up",
    "unanswered": "answer_requests",
    "one_way": "catch_up",
    "formal_trend": "catch_up",
    formula.PULSE: "send_pulse",
    formula.CHECKINS: "catch_up",
    formula.TONE: "watch_channel",
}


@dataclass(frozen=True)
class NextStep:
    action: str  # catch_up, send_pulse, answer_requests, watch_channel, keep_going
    about: str  # the weakest component's key, or a pillar with no data
    detail: dict[str, Any] = field(default_factory=dict)


def next_step(index: HealthIndex) -> NextStep:
    losses: dict[str, float] = {}
    for pillar in formula.PILLARS:
        specs = [spec for spec in formula.COMPONENTS if spec.pillar == pillar]
        counted = [spec for spec in specs if index.components[spec.key].counted]
        if not counted:
            losses[pillar] = formula.pillar_weight(pillar) * MISSING_PILLAR_SHARE
        for spec in counted:
            score = index.components[spec.key].score or 0.0
            losses[spec.key] = spec.weight * (100 - score) / 100
    about = max(losses, key=lambda key: losses[key])  # the first of equals
    if losses[about] <= 0:
        return NextStep("keep_going", about)
    action = ACTIONS[about]
    if about == formula.TONE and index.components["formal_share"].reason != "no_channels":
        action = "catch_up"  # channels are watched, only quiet
    return NextStep(action, about, _where(index, about))


def _where(index: HealthIndex, about: str) -> dict[str, Any]:
    """The channel with most requests waiting, for an unanswered-requests step."""
    if about != "unanswered":
        return {}
    waiting = index.components["unanswered"].detail["channels"]
    channel = max(waiting, key=lambda c: waiting[c])
    return {"channel": channel, "waiting": waiting[channel]}
