"""Each person counts once per round, whatever happens to their membership: forget-me and a
re-add while the round is open, or feedback given ahead by someone removed before it opens
(signed commands and clicks, the pulse job, ``/pulse results`` as owners see it)."""

from __future__ import annotations

from datetime import timedelta

from tests.privacy.test_data_rights import forget
from tests.pulse.test_results import _close, _prompt, _results, _round
from tests.support.helpers import make_relationship
from tests.support.pulse_helpers import (
    answer_value,
    click,
    give_feedback,
    job_context,
    rounds,
    tick,
)

CLIENT_LINE = "*Client*: "


def _client_lines(shown: str) -> str:
    lines = shown.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(CLIENT_LINE))
    return "\n".join(lines[at : at + 2])


def test_forget_me_and_re_added_in_an_open_round_counts_one_person_once(rapport):
    make_relationship(rapport.db, rapport.clock, client_members=("UC1", "UC2", "UC3"))
    assert "added" in rapport.slack.command("add <@UM1> client manager").text
    # client: UALICE (owner) and UM1 (manager), UC1-UC3 front-line: 2 managers, under 3
    round_id = _round(rapport, {"UALICE": 2, "UM1": 4, "UC1": 5, "UC2": 5, "UC3": 5})
    (old_prompt,) = _prompt(rapport, "UM1", round_id)

    assert "withdrew your answers from 1 pulse round still open" in forget(rapport, "UM1")
    assert "added" in rapport.slack.command("add <@UM1> client manager").text
    assert click(rapport, "UM1", 4, answer_value(old_prompt)).status == 200
    with job_context(rapport) as context:
        tick(context)  # prompts UM1 again, as a member the round hasn't reached
    assert len(_prompt(rapport, "UM1", round_id)) == 2
    _close(rapport)

    client = _client_lines(_results(rapport, "UALICE"))
    assert "5 of 5 answered (100%)" in client
    assert "front-line / managers: _not enough answers yet_" in client  # still 2 managers
    assert "*Client*: *4.2*" in client  # (2 + 4 + 5 + 5 + 5) / 5, UM1's answer once


def test_forget_me_in_an_open_round_withdraws_the_answer_and_the_prompt(rapport):
    make_relationship(rapport.db, rapport.clock, client_members=("UC1", "UC2", "UC3"))
    _round(rapport, {"UALICE": 1, "UC1": 5, "UC2": 5, "UC3": 5})
    forget(rapport, "UC3")
    _close(rapport)
    client = _client_lines(_results(rapport, "UALICE"))
    assert "*Client*: *3.7*" in client and "3 of 3 answered (100%)" in client


def test_feedback_from_someone_removed_before_the_round_opens_keeps_the_rate_at_most_100(rapport):
    make_relationship(rapport.db, rapport.clock, client_members=("UC1", "UC2", "UC3"))
    give_feedback(rapport, "UC3", 5)  # counts in the next scheduled round, not open yet
    assert "removed" in rapport.slack.command("remove <@UC3>").text
    (ahead,) = rounds(rapport.db)
    rapport.clock.current = ahead.opens_at + timedelta(days=1)
    with job_context(rapport) as context:
        tick(context)
    for user in ("UALICE", "UC1", "UC2"):
        (prompt,) = _prompt(rapport, user, ahead.id)
        assert click(rapport, user, 3, answer_value(prompt)).status == 200
    rapport.clock.current = ahead.closes_at + timedelta(minutes=1)
    client = _client_lines(_results(rapport, "UALICE"))
    assert "4 of 4 answered (100%)" in client
