"""The health index as plain values: each component's figure and score, or why it was left
out, and the index they add up to. Stored as a weekly snapshot (``to_json``) and read back
(``from_json``) to say what changed since last week."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from bot.health import formula

# why a component was left out; filled in from its ``detail``
REASONS = {
    "no_round": "no pulse round has closed yet",
    "stale_round": "the last pulse round closed more than {weeks} weeks ago",
    "side_empty": "the {side} side has no members yet",
    "side_hidden": "fewer than {min_group} {side} answers in the last round (hidden to keep "
    "answers anonymous)",
    "no_recipients": "nobody on the {side} side was asked in the last round",
    "needs_both_sides": "it needs both sides' pulse figures",
    "roles_hidden": "no side has front-line and manager groups of {min_group} or more answers",
    "no_checkins": "no check-ins yet",
    "no_occurrences": "no check-in has taken place in the last {weeks} weeks",
    "no_channels": "no channel is watched yet",
    "quiet_channels": "fewer than {needed} messages in watched channels over {days} days",
    "not_measured": "not measured that week",
    "intros_off": "intros are off",
    "no_intro_round": "no round of intros has finished yet",
}


@dataclass(frozen=True)
class Component:
    key: str
    figure: float | None = None  # in its own unit: an average, a share, a count
    score: float | None = None  # 0–100; None when left out
    reason: str = ""  # a ``REASONS`` key when left out
    detail: dict[str, Any] = field(default_factory=dict)  # what sentences and reasons need

    @property
    def counted(self) -> bool:
        return self.score is not None

    def why(self) -> str:
        """Why it was left out, in words."""
        return REASONS[self.reason].format(**self.detail)


def left_out(key: str, reason: str, **detail: Any) -> Component:
    return Component(key, reason=reason, detail=detail)


@dataclass(frozen=True)
class HealthIndex:
    team_id: str
    relationship_id: int
    computed_at: datetime
    components: dict[str, Component]  # every component of the formula, in its order
    empty_sides: tuple[str, ...] = ()  # sides without members

    @property
    def value(self) -> float | None:
        return self._combined[0]

    @property
    def weights(self) -> dict[str, float]:
        """Each counted component's weight after re-weighting (they add up to 100)."""
        return self._combined[1]

    @cached_property
    def _combined(self) -> tuple[float | None, dict[str, float]]:
        scores = {key: c.score for key, c in self.components.items() if c.score is not None}
        return formula.combine(scores)

    @property
    def band(self) -> str | None:
        return None if self.value is None else formula.band(self.value)

    def contribution(self, key: str) -> float | None:
        """Points of the index that ``key`` brings: its weight × its score / 100."""
        score, weight = self.components[key].score, self.weights.get(key)
        return None if score is None or weight is None else weight * score / 100

    def pillar_score(self, pillar: str) -> float | None:
        """The pillar's components combined alone, 0–100; None when none has data."""
        counted = [
            (formula.SPECS[key].weight, c.score)
            for key, c in self.components.items()
            if formula.SPECS[key].pillar == pillar and c.score is not None
        ]
        if not counted:
            return None
        return sum(weight * score for weight, score in counted) / sum(w for w, _ in counted)

    def to_json(self) -> dict[str, Any]:
        return {
            "components": {
                key: {"figure": c.figure, "score": c.score, "reason": c.reason, "detail": c.detail}
                for key, c in self.components.items()
            },
            "empty_sides": list(self.empty_sides),
        }

    @classmethod
    def from_json(
        cls, team_id: str, relationship_id: int, computed_at: datetime, stored: dict[str, Any]
    ) -> HealthIndex:
        """A stored snapshot; components the formula no longer has are dropped, and ones it
        gained since count as left out."""
        kept = stored.get("components", {})
        components = {
            spec.key: Component(spec.key, **kept[spec.key])
            if spec.key in kept
            else left_out(spec.key, "not_measured")
            for spec in formula.COMPONENTS
        }
        sides = tuple(stored.get("empty_sides", ()))
        return cls(team_id, relationship_id, computed_at, components, sides)
