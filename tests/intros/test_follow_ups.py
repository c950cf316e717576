"""After the intro: *Suggest a time*, the nudge to quiet groups, *Did you meet?* and what
owners see of it (counts only); sending exactly once across a restart; forget-me."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.health.index import compute_health
from bot.intros.models import Answer, IntroGroupMember, IntroPreference
from bot.relationships.models import Relationship
from scheduler.intros_jobs import forget_old_pairs
from tests.intros.test_rounds import at, start
from tests.privacy.test_data_rights import forget
from tests.support.health_helpers import health
from tests.support.intro_helpers import (
    button_value,
    follow_ups,
    group_rows,
    intros,
    intros_command,
    posts,
    reply_text,
    tick,
)
from tests.support.pulse_helpers import job_context


def introduced(rapport, services) -> dict[str, str]:
    """Run the first round up to both intros; each person's group DM channel."""
    tick(services)
    rapport.clock.current = at(9, 12)
    tick(services)
    rapport.clock.current = at(10, 13)
    tick(services)
    channels = {}
    for call in intros(rapport.fake):
        for user in ("UALICE", "UPAT", "UCARL", "UPRIYA"):
            if f"<@{user}>" in call.args["text"]:
                channels[user] = call.args["channel"]
    return channels


def test_each_time_has_its_own_button_and_an_older_intros_single_one_still_works(rapport):
    """Slack refuses an actions block whose buttons share an action_id (the fake too): each
    time is ``intro_suggest_time_<n>``; an intro sent with one time had it bare."""
    start(rapport)
    with job_context(rapport) as services:
        channels = introduced(rapport, services)
    carls = next(c for c in intros(rapport.fake) if c.args["channel"] == channels["UCARL"])
    times = [
        element["action_id"]
        for block in carls.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].startswith("intro_suggest_time")
    ]
    assert times == [f"intro_suggest_time_{n}" for n in range(3)]
    value = button_value(carls, "intro_suggest_time_2")
    rapport.slack.block_action("intro_suggest_time", value=value, user="UCARL")
    (suggested,) = rapport.fake.wait_for(
        "chat.postMessage", lambda c: "suggests" in c.args.get("text", "")
    )
    assert suggested.args["channel"] == channels["UCARL"]


def test_quiet_groups_are_nudged_and_everyone_is_asked_if_they_met(rapport):
    start(rapport)
    with job_context(rapport) as services:
        channels = introduced(rapport, services)
        carls = next(c for c in intros(rapport.fake) if c.args["channel"] == channels["UCARL"])
        value = button_value(carls, "intro_suggest_time_0")
        container = {"type": "message", "message_ts": carls.args.get("ts", "1.1"),
                     "channel_id": channels["UCARL"]}  # fmt: skip
        rapport.slack.block_action("intro_suggest_time_0", value=value, user="UCARL",
                                   container=container)  # fmt: skip
        (suggested,) = rapport.fake.wait_for(
            "chat.postMessage", lambda c: "suggests" in c.args.get("text", "")
        )
        assert suggested.args["channel"] == channels["UCARL"]
        assert "09:00 for <@UCARL>" in suggested.args["text"]
        assert "13:00 for <@UPRIYA>" in suggested.args["text"]
        rapport.clock.current = at(17, 2)  # half-way for both groups
        tick(services)
        tick(services)
        nudges = posts(rapport.fake, lambda c: "gentle nudge" in c.args.get("text", ""))
        assert [c.args["channel"] for c in nudges] == [channels["UALICE"]]
        rapport.clock.current = at(23, 9)
        tick(services)
        assert sorted(c.args["channel"] for c in follow_ups(rapport.fake)) == ["UALICE", "UPAT"]
        rapport.clock.current = at(23, 13)
        tick(services)
        tick(services)
    asked = follow_ups(rapport.fake)
    assert sorted(c.args["channel"] for c in asked) == ["UALICE", "UCARL", "UPAT", "UPRIYA"]
    for user, action in (("UALICE", "intro_met_yes"), ("UPAT", "intro_met_not_yet"),
                         ("UCARL", "intro_met_skip")):  # fmt: skip
        call = next(c for c in asked if c.args["channel"] == user)
        rapport.slack.block_action(action, value=button_value(call, action), user=user)
    rapport.fake.wait_for("response_url", count=3)
    with rapport.db.transaction() as session:
        first_round = {int(button_value(c, "intro_met_yes")) for c in asked}
        query = select(IntroGroupMember.user_id, IntroGroupMember.answer).where(
            IntroGroupMember.group_id.in_(first_round)
        )
        answers = {user: answer for user, answer in session.execute(query)}
    assert answers == {
        "UALICE": Answer.MET,
        "UPAT": Answer.NOT_YET,
        "UCARL": Answer.SKIPPED,
        "UPRIYA": None,
    }
    shown = intros_command(rapport, "")
    assert "Tuesday 10 March: 2 groups, 50% met" in shown
    figures = shown.split("Rounds")[1]
    assert not any(user in figures for user in ("UALICE", "UPAT", "UCARL", "UPRIYA"))
    assert "Rounds" not in intros_command(rapport, "", user="UCARL")
    assert "intros are off" not in reply_text(health(rapport))
    with rapport.db.read() as session:
        relationship = session.scalars(select(Relationship)).one()
        index = compute_health(session, relationship, rapport.clock.now())
    met = index.components["intros_met"]
    assert (met.figure, met.score, met.detail) == (0.5, 50.0, {"met": 1, "groups": 2})


def test_someone_else_cannot_answer_for_a_group(rapport):
    start(rapport)
    with job_context(rapport) as services:
        introduced(rapport, services)
    group_id = group_rows(rapport.db)[0].id
    rapport.slack.block_action("intro_met_yes", value=str(group_id), user="UCARL")
    rapport.fake.wait_for("response_url", lambda c: "out of date" in c.args["text"])
    with rapport.db.transaction() as session:
        assert session.scalar(select(func.count()).where(IntroGroupMember.answer.is_not(None))) == 0


def test_an_intro_whose_answer_was_lost_is_found_not_sent_again_after_a_restart(rapport):
    start(rapport)
    with job_context(rapport) as services:
        tick(services)
        rapport.clock.current = at(9, 12)
        tick(services)
        rapport.clock.current = at(10, 9)
        rapport.fake.drop_answer("chat.postMessage")  # Slack posted it; the answer was lost
        tick(services)
    assert group_rows(rapport.db)[0].route is None
    rapport.clock.current = at(10, 9, 11)  # the dead sender's claim is stale
    with job_context(rapport) as restarted:
        tick(restarted)
        tick(restarted)
    (channel,) = {c.args["channel"] for c in rapport.fake.calls_to("chat.postMessage")
                  if c.args.get("text", "").startswith("Meet ")}  # fmt: skip
    assert len(rapport.fake.messages[channel]) == 1
    assert group_rows(rapport.db)[0].conversation_id == channel


def test_forget_me_deletes_intro_choices_groups_and_answers(rapport):
    start(rapport)
    with job_context(rapport) as services:
        introduced(rapport, services)
    intros_command(rapport, "me pause 2", user="UCARL")
    reply = forget(rapport, "UCARL")
    assert "intro choices" in reply
    with rapport.db.transaction() as session:
        people = set(session.scalars(select(IntroGroupMember.user_id)))
        chosen = set(session.scalars(select(IntroPreference.user_id)))
    assert "UCARL" not in people | chosen
    assert {"UALICE", "UPAT", "UPRIYA"} <= people


def test_pair_history_is_deleted_after_the_retention_period(rapport):
    start(rapport)
    assert "1 months" in intros_command(rapport, "history 1")
    with job_context(rapport) as services:
        introduced(rapport, services)
        rapport.clock.current = at(31, 12)
        assert forget_old_pairs(services) == 0  # a month after the round: still kept
        rapport.clock.current = datetime(2026, 4, 10, 0, 0, tzinfo=UTC)
        assert forget_old_pairs(services) == 1
    assert group_rows(rapport.db) == []
    with rapport.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IntroGroupMember)) == 0
