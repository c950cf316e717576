"""Weekly health snapshots across weeks with an injected clock: the job stores one per
relationship and week (and never two), the trend reads them back, and what changed since
last week is said in sentences."""

from __future__ import annotations

from datetime import UTC, date, datetime

from scheduler.checkin_jobs import run_checkin_tick
from tests.support.health_helpers import (
    chatter,
    health,
    health_relationship,
    pulse_round,
    shown,
    snapshots,
    store_snapshots,
    wait_for_snapshot,
)
from tests.support.helpers import run_as_scheduler

PROVIDER = {"UPAT": 4, "UP1": 4, "UP2": 4, "UP3": 4}


def _at(rapport, day: int, hour: int = 12, minute: int = 0) -> None:
    rapport.clock.current = datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_weekly_job_stores_one_snapshot_per_relationship_and_week(rapport):
    health_relationship(rapport)
    health_relationship(rapport, "Beta ⇄ Stellar", channels=())
    assert store_snapshots(rapport) == 2
    assert store_snapshots(rapport) == 0  # nothing due: a repeated run changes nothing
    first = snapshots(rapport)
    assert [s.week_start for s in first] == [date(2026, 3, 2)] * 2
    assert first[0].index_value is None and first[0].band is None
    assert first[0].components["components"]["client_pulse"]["reason"] == "no_round"
    rapport.clock.advance(days=1, seconds=1)  # a day later, the week's row is brought up to date
    assert store_snapshots(rapport) == 2
    refreshed = snapshots(rapport)
    assert len(refreshed) == 2 and refreshed[0].computed_at > first[0].computed_at
    rapport.clock.advance(weeks=1)
    assert store_snapshots(rapport) == 2
    assert [s.week_start for s in snapshots(rapport)] == [
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 2),
        date(2026, 3, 9),
    ]


def test_trend_reads_past_weeks_and_the_command_stores_this_weeks(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, {"UALICE": 4, "UC1": 4, "UC2": 4, "UC3": 4} | PROVIDER)
    store_snapshots(rapport)  # week of 2 March
    rapport.clock.advance(weeks=1)
    store_snapshots(rapport)  # 9 March
    rapport.clock.advance(weeks=2)  # nothing stored the week of 16 March
    reply = shown(health(rapport))
    assert "*Acme ⇄ Stellar*: *83*/100 · *thriving*" in reply
    assert "last 12 weeks: –, –, –, –, –, –, –, –, 83, 83, –, 83" in reply
    stored = wait_for_snapshot(rapport, date(2026, 3, 23))
    assert round(stored.index_value) == 83 and stored.band == "thriving"


def _week(rapport, monday: int, client: dict[str, int], formal: int) -> None:
    """Tuesday's check-in asked about and skipped, ten messages on Wednesday (``formal`` of
    them formal), then a pulse round that closes on Saturday at noon."""
    _at(rapport, monday + 1, 10, 30)
    run_as_scheduler(rapport, run_checkin_tick)
    follow_ups = [c for c in rapport.fake.calls_to("chat.postMessage") if "Did " in c.args["text"]]
    occurrence = follow_ups[-1].args["blocks"][1]["elements"][0]["value"]
    rapport.slack.block_action("checkin_outcome_skipped", value=occurrence, user="UALICE")
    rapport.fake.wait_for("views.open", count=len(follow_ups))
    _at(rapport, monday + 2)
    chatter(rapport, formal=formal, messages=10)
    pulse_round(rapport, client | PROVIDER)


def test_what_changed_since_last_week_is_said_in_sentences(rapport):
    health_relationship(rapport)
    add = '"Ops catch-up" weekly tue 10:00 <@UALICE> <@UPAT> tz UTC'
    assert "saved" in rapport.slack.command(f"add {add}", command="/checkin").text
    _week(rapport, 2, {"UALICE": 4, "UC1": 3, "UC2": 4, "UC3": 3}, formal=1)
    store_snapshots(rapport)  # Saturday 7 March: client 3.5, one skip, 10% formal
    _week(rapport, 9, {"UALICE": 3, "UC1": 3, "UC2": 3, "UC3": 2}, formal=4)
    owner = shown(health(rapport))  # Saturday 14 March
    changes = owner.split("*Since last week*\n")[1].split("\n*Next step:*")[0].splitlines()
    assert changes[0].startswith("• Index down ")
    assert changes[1:] == [
        "• Client pulse fell 0.7 to 2.8.",
        "• The client–provider gap widened from 0.5 to 1.3.",
        "• *Ops catch-up* skipped twice in a row.",
        "• Formal share up from 10% to 40% in <#CSHARED>.",
    ]
    member = shown(health(rapport, user="UC1"))
    assert "• Client pulse fell 0.7 to 2.8." in member


def test_changes_respect_a_raised_anonymity_threshold(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, {"UALICE": 4, "UC1": 4, "UC2": 4} | PROVIDER)
    store_snapshots(rapport)
    assert "now 4 answers" in rapport.slack.command("settings min-group 4", command="/pulse").text
    rapport.clock.advance(weeks=1)
    pulse_round(rapport, {"UALICE": 2, "UC1": 2, "UC2": 2, "UC3": 2} | PROVIDER)
    owner = shown(health(rapport))
    assert "Client pulse fell" not in owner  # last week's 4.0 was shown to groups of 3
    assert "Client pulse: 2.0 of 5" in owner
