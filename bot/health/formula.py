"""The health index formula, in one place: what counts, how much, and what each band means.

The index runs from 0 to 100. It is a weighted average of *components*, each a figure
Rapport already shows somewhere (``/pulse results``, ``/checkin history``, ``/rapport
drift``) turned into a score from 0 (worst) to 100 (best) by the rule in its ``how``::

    index = sum(weight × score) / sum(weight), over the components that have data

The weights add up to 100, in three pillars: how each side feels (pulse, 45), whether
people still meet (check-ins and intros, 30) and how they talk (tone, 25). A component without
enough data (no pulse round closed yet, no channel watched, a side hidden to keep answers
anonymous) is left out, and the others share its weight in proportion to their own. With
less than ``MIN_COVERAGE`` points of weight left there is no index at all, only the reasons.

Nothing here reads the database: ``bot.health.index`` gathers the figures, and what the
owners read as ``/rapport health formula`` is drawn from ``COMPONENTS`` and ``BANDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

PULSE, CHECKINS, TONE = "pulse", "checkins", "tone"
PILLARS = {PULSE: "Pulse", CHECKINS: "Check-ins", TONE: "Tone"}

MIN_COVERAGE = 20  # points of weight with data needed for an index
PULSE_FRESH = timedelta(weeks=12)  # an older round says little about today
MIN_MESSAGES = 10  # messages in the drift window before tone counts
GOOD_RESPONSE = 0.8  # a response rate this high scores 100
WORST_GAP = 2.0  # a gap of this many points (of 5) or more scores 0
LAPSE_COST = 50  # points each open lapse takes off


@dataclass(frozen=True)
class ComponentSpec:
    key: str
    label: str
    pillar: str
    weight: int
    how: str  # the figure and how it maps to 0–100, in plain words
    owners_only: bool = False  # its figure is shown to owners alone


COMPONENTS: tuple[ComponentSpec, ...] = (
    ComponentSpec(
        "client_pulse", "Client pulse", PULSE, 14,
        "the client side's average in the latest closed round: 1 scores 0, 5 scores 100",
    ),
    ComponentSpec(
        "provider_pulse", "Provider pulse", PULSE, 14,
        "the provider side's average in the latest closed round: 1 scores 0, 5 scores 100",
    ),
    ComponentSpec(
        "client_response", "Client response rate", PULSE, 4,
        "share of the client side who answered that round: 0% scores 0, 80% or more 100",
    ),
    ComponentSpec(
        "provider_response", "Provider response rate", PULSE, 4,
        "share of the provider side who answered that round: 0% scores 0, 80% or more 100",
    ),
    ComponentSpec(
        "side_gap", "Client–provider gap", PULSE, 5,
        "how far apart the two sides' averages are: level scores 100, 2 points or more 0",
    ),
    ComponentSpec(
        "role_gap", "Front-line–manager gap", PULSE, 4,
        "the wider gap between front-line staff and managers on a side: level scores 100, "
        "2 points or more 0",
        owners_only=True,
    ),
    ComponentSpec(
        "adherence", "Check-in adherence", CHECKINS, 15,
        "share of check-ins held over 8 weeks (up to two days ago, so one still waiting "
        "for its answer never counts against it): the share itself, 6 of 8 scores 75",
    ),
    ComponentSpec(
        "lapses", "Open lapses", CHECKINS, 10,
        "check-ins skipped or unconfirmed twice in a row, and 3 weeks with none held: "
        "none scores 100, each takes 50 off",
    ),
    ComponentSpec(
        "intros_met", "Intros met", CHECKINS, 5,
        "share of the groups in the last finished round of intros where someone said they "
        "met: the share itself, half of them scores 50",
        owners_only=True,
    ),
    ComponentSpec(
        "formal_share", "Formal share", TONE, 10,
        "share of formal messages in watched channels over the drift window: 0% scores 100, "
        "the alert share (35% by default) 50, twice it 0",
    ),
    ComponentSpec(
        "unanswered", "Unanswered requests", TONE, 6,
        "formal messages the other side hasn't answered in time: none scores 100, twice "
        "the number that alerts (2 by default) 0",
    ),
    ComponentSpec(
        "one_way", "One-way traffic", TONE, 5,
        "share of active channels where only one side spoke enough to alert: none scores "
        "100, all 0",
    ),
    ComponentSpec(
        "formal_trend", "Formal trend", TONE, 4,
        "formal messages this window against the one before: no rise scores 100, a rise of "
        "twice the alert minimum (3 by default) 0",
    ),
)  # fmt: skip
SPECS = {spec.key: spec for spec in COMPONENTS}

# (lowest index in the band, band), best first
BANDS: tuple[tuple[int, str], ...] = (
    (80, "thriving"),
    (65, "healthy"),
    (50, "watch"),
    (35, "strained"),
    (0, "at risk"),
)


def band(index: float) -> str:
    """``72`` → ``"healthy"``."""
    return next(name for floor, name in BANDS if index >= floor)


def pillar_weight(pillar: str) -> int:
    return sum(spec.weight for spec in COMPONENTS if spec.pillar == pillar)


def combine(scores: dict[str, float]) -> tuple[float | None, dict[str, float]]:
    """The index from the scores of the components that have data, and each one's weight
    after re-weighting (they add up to 100); no index below ``MIN_COVERAGE``."""
    covered = sum(SPECS[key].weight for key in scores)
    if covered < MIN_COVERAGE:
        return None, {}
    weights = {key: SPECS[key].weight * 100 / covered for key in scores}
    return sum(weights[key] * score for key, score in scores.items()) / 100, weights


def _clamped(score: float) -> float:
    return min(100.0, max(0.0, score))


def average_score(average: float) -> float:
    """A pulse average on the 1–5 scale."""
    return _clamped((average - 1) / 4 * 100)


def response_score(rate: float) -> float:
    return _clamped(rate / GOOD_RESPONSE * 100)


def gap_score(gap: float) -> float:
    return _clamped((1 - abs(gap) / WORST_GAP) * 100)


def adherence_score(held: int, scheduled: int) -> float:
    return _clamped(held / scheduled * 100)


def met_rate_score(rate: float) -> float:
    return _clamped(rate * 100)


def lapses_score(open_lapses: int) -> float:
    return _clamped(100 - LAPSE_COST * open_lapses)


def formal_share_score(share: float, alert_share: float) -> float:
    return _clamped((1 - share / (2 * alert_share)) * 100)


def unanswered_score(unanswered: int, alert_count: int) -> float:
    return _clamped((1 - unanswered / (2 * alert_count)) * 100)


def one_way_score(one_way_channels: int, active_channels: int) -> float:
    return _clamped((1 - one_way_channels / active_channels) * 100)


def formal_trend_score(rise: int, alert_minimum: int) -> float:
    return _clamped((1 - max(0, rise) / (2 * alert_minimum)) * 100)
