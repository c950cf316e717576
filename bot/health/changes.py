"""What changed since last week, in sentences: this week's components against last week's
snapshot ("Client pulse fell 0.6 to 2.9", "*Ops catch-up* skipped twice in a row",
"Formal share up from 5% to 22% in #acme-stellar").

Only changes big enough to matter are said (see the ``*_STEP`` figures): the index first,
then pulse, check-ins, tone and what stopped counting. A pulse figure from last week is
compared only if it was shown under today's anonymity threshold: raising ``min-group``
hides it here too.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.core.figures import decimal_text, half_up, percent_text
from bot.health import formula
from bot.health.figures import Component, HealthIndex
from bot.slack import mrkdwn

INDEX_STEP = 1.0  # index points
AVERAGE_STEP = 0.1  # pulse points
GAP_STEP = 0.3
SHARE_STEP = 0.10  # response rates, adherence, formal share
MAX_CHANGES = 6


def changes(
    now: HealthIndex, before: HealthIndex | None, is_owner: bool, min_group: int
) -> list[str]:
    """Sentences for what moved between ``before`` (last week) and ``now``; owners also
    hear about the components only they see. ``min_group``: today's anonymity threshold."""
    if before is None:
        return []
    compared = _Compared(now, before, is_owner, min_group)
    said = [
        *_index(now, before),
        *compared.pulse(),
        *compared.checkins(),
        *compared.tone(),
        *compared.left_out(),
    ]
    return said[:MAX_CHANGES]


def _index(now: HealthIndex, before: HealthIndex) -> Iterator[str]:
    if now.value is None or before.value is None:
        return
    delta = now.value - before.value
    if abs(delta) < INDEX_STEP:
        return
    moved = "up" if delta > 0 else "down"
    sentence = (
        f"Index {moved} {_points(abs(delta))} from {_points(before.value)} to {_points(now.value)}"
    )
    if now.band != before.band:
        sentence += f": now *{now.band}* (was {before.band})"
    yield sentence + "."


class _Compared:
    def __init__(self, now: HealthIndex, before: HealthIndex, is_owner: bool, min_group: int):
        self.now, self.before = now.components, before.components
        self.is_owner, self.min_group = is_owner, min_group

    def _pair(self, key: str) -> tuple[Component, Component] | None:
        """This week's and last week's component when both were counted."""
        now, before = self.now[key], self.before[key]
        return (now, before) if now.counted and before.counted else None

    def pulse(self) -> Iterator[str]:
        for side in ("client", "provider"):
            pair = self._pair(f"{side}_pulse")
            if pair and self._comparable_rounds(*pair):
                yield from _moved(f"{side.capitalize()} pulse", pair, AVERAGE_STEP)
        for side in ("client", "provider"):
            if pair := self._pair(f"{side}_response"):
                yield from _shares(f"{side.capitalize()} response rate", pair)
        if (pair := self._pair("side_gap")) and self._comparable_rounds(*pair):
            yield from _gap("The client–provider gap", pair)
        pair = self._pair("role_gap")
        if self.is_owner and pair and self._comparable_rounds(*pair):
            yield from _gap(f"The front-line–manager gap ({pair[0].detail['side']} side)", pair)

    def _comparable_rounds(self, now: Component, before: Component) -> bool:
        """A new round, and last week's figure shown at today's threshold or above."""
        same_round = now.detail.get("round_id") == before.detail.get("round_id")
        return not same_round and before.detail.get("min_group", 0) >= self.min_group

    def checkins(self) -> Iterator[str]:
        if pair := self._pair("adherence"):
            yield from _shares("Check-in adherence", pair)
        if pair := self._pair("lapses"):
            yield from _lapses(pair[0].detail, pair[1].detail)

    def tone(self) -> Iterator[str]:
        if pair := self._pair("formal_share"):
            yield from _channel_shares(pair[0].detail["channels"], pair[1].detail["channels"])
        if pair := self._pair("unanswered"):
            now, before = pair[0].detail["channels"], pair[1].detail["channels"]
            for channel, waiting in now.items():
                if waiting > before.get(channel, 0):
                    requests = "request" if waiting == 1 else "requests"
                    yield (
                        f"{waiting} formal {requests} waiting for an answer in "
                        f"{mrkdwn.channel(channel)} ({before.get(channel, 0)} last week)."
                    )
        if pair := self._pair("one_way"):
            for channel, side in pair[0].detail["channels"].items():
                if channel not in pair[1].detail["channels"]:
                    yield f"Only the {side} side spoke in {mrkdwn.channel(channel)}."

    def left_out(self) -> Iterator[str]:
        for spec in formula.COMPONENTS:
            now, before = self.now[spec.key], self.before[spec.key]
            if before.counted and not now.counted and (self.is_owner or not spec.owners_only):
                yield f"{spec.label} no longer counts: {now.why()}."


def _moved(label: str, pair: tuple[Component, Component], step: float) -> Iterator[str]:
    now, before = pair[0].figure or 0.0, pair[1].figure or 0.0
    delta = float(half_up(now, 1) - half_up(before, 1))
    if abs(delta) >= step:
        verb = "rose" if delta > 0 else "fell"
        yield f"{label} {verb} {decimal_text(abs(delta))} to {decimal_text(now)}."


def _gap(label: str, pair: tuple[Component, Component]) -> Iterator[str]:
    now, before = pair[0].figure or 0.0, pair[1].figure or 0.0
    if abs(now - before) >= GAP_STEP:
        verb = "widened" if now > before else "narrowed"
        yield f"{label} {verb} from {decimal_text(before)} to {decimal_text(now)}."


def _shares(label: str, pair: tuple[Component, Component]) -> Iterator[str]:
    now, before = pair[0].figure or 0.0, pair[1].figure or 0.0
    if abs(now - before) >= SHARE_STEP - 1e-9:
        verb = "rose" if now > before else "fell"
        yield f"{label} {verb} from {percent_text(before)} to {percent_text(now)}."


def _channel_shares(now: dict[str, list[int]], before: dict[str, list[int]]) -> Iterator[str]:
    for channel, (messages, formal) in now.items():
        if channel not in before or not before[channel][0]:
            continue
        share, was = formal / messages, before[channel][1] / before[channel][0]
        if abs(share - was) >= SHARE_STEP - 1e-9:
            moved = "up" if share > was else "down"
            yield (
                f"Formal share {moved} from {percent_text(was)} to {percent_text(share)} in "
                f"{mrkdwn.channel(channel)}."
            )


def _lapses(now: dict, before: dict) -> Iterator[str]:
    lapsed_before = {lapse["title"]: lapse["count"] for lapse in before["checkins"]}
    for lapse in now["checkins"]:
        if lapse["count"] > lapsed_before.get(lapse["title"], 0):
            title, how, times = mrkdwn.escape(lapse["title"]), lapse["how"], _times(lapse["count"])
            yield f"*{title}* {how} {times} in a row."
    still = {lapse["title"] for lapse in now["checkins"]}
    for title in sorted(lapsed_before.keys() - still):
        yield f"*{mrkdwn.escape(title)}* is back on track."
    if now["quiet_weeks"] and not before["quiet_weeks"]:
        yield f"No check-in has been held for {now['quiet_weeks']} weeks."
    elif before["quiet_weeks"] and not now["quiet_weeks"]:
        yield "A check-in was held again."


def _times(count: int) -> str:
    return "twice" if count == 2 else f"{count} times"


def _points(value: float) -> str:
    return decimal_text(value, 0)
