"""Answering a pulse: buttons, re-answers, the comment modal, ad-hoc feedback, closed
rounds, replayed buttons, reminders, and what the database keeps (no user ids)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.pulse.anonymity import respondent_token
from bot.pulse.models import PulseAnswer, PulseComment, PulseRecipient
from bot.schema import metadata
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship
from tests.support.pulse_helpers import (
    answer_value,
    click,
    give_feedback,
    job_context,
    prompts,
    pulse,
    reminders,
    rounds,
    tick,
)


def _round_sent(rapport) -> None:
    for user in ("UALICE", "UCARL", "UPAT", "UPRIYA"):
        rapport.fake.add_user(user)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "send")
    with job_context(rapport) as context:
        tick(context)


def _answers(db) -> list[PulseAnswer]:
    with db.transaction() as session:
        return list(session.scalars(select(PulseAnswer)))


def _actions(blocks: list[dict]) -> list[str]:
    """The action ids of every button in ``blocks``, accessories included, in order."""
    elements = [[b["accessory"]] if "accessory" in b else b.get("elements", []) for b in blocks]
    return [e["action_id"] for listed in elements for e in listed if "action_id" in e]


def _change_answer(rapport, user: str, value: str):
    return rapport.slack.block_action(
        "pulse_change_answer",
        value=value,
        user=user,
        container={"type": "message", "message_ts": "1700000001.000001", "channel_id": "DCARL"},
    )


def test_pulse_answer_replaces_buttons_with_thanks_and_a_re_answer_replaces_it(rapport):
    _round_sent(rapport)
    (prompt,) = prompts(rapport.fake, "UCARL")
    value = answer_value(prompt)
    assert click(rapport, "UCARL", 4, value).status == 200
    (update,) = rapport.fake.wait_for("chat.update")
    assert update.args["channel"] == "DCARL"
    assert update.args["text"] == "Thanks! Your answer: 4 — well."
    assert "Thanks! You answered *4 — well*" in str(update.args["blocks"])
    assert _actions(update.args["blocks"]) == ["pulse_change_answer", "pulse_comment"]
    assert [a.score for a in _answers(rapport.db)] == [4]

    assert _change_answer(rapport, "UCARL", value).status == 200
    buttons = rapport.fake.wait_for("chat.update", count=2)[-1].args["blocks"]
    assert _actions(buttons)[:5] == [f"pulse_answer_{n}" for n in range(1, 6)]
    chosen = [e for b in buttons if b["type"] == "actions" for e in b["elements"] if e.get("style")]
    assert [e["action_id"] for e in chosen] == ["pulse_answer_4"]

    click(rapport, "UCARL", 2, value)
    third = rapport.fake.wait_for("chat.update", count=3)[-1]
    assert "You answered *2 — poorly*" in str(third.args["blocks"])
    assert [a.score for a in _answers(rapport.db)] == [2]


def test_pulse_change_my_answer_on_a_closed_round_says_it_closed(rapport):
    _round_sent(rapport)
    value = answer_value(prompts(rapport.fake, "UCARL")[0])
    click(rapport, "UCARL", 4, value)
    rapport.fake.wait_for("chat.update")
    rapport.clock.advance(days=3, seconds=1)
    _change_answer(rapport, "UCARL", value)
    (reply,) = rapport.fake.wait_for("response_url")
    assert "This round has closed" in reply.args["text"]
    assert len(rapport.fake.calls_to("chat.update")) == 1  # the thank-you stays


def test_pulse_answers_store_no_user_id(rapport):
    _round_sent(rapport)
    for user, score in (("UCARL", 4), ("UPAT", 3)):
        click(rapport, user, score, answer_value(prompts(rapport.fake, user)[0]))
    rapport.fake.wait_for("chat.update", count=2)
    stored = _answers(rapport.db)
    assert len(stored) == 2
    for answer in stored:
        row = " ".join(str(getattr(answer, c.key)) for c in PulseAnswer.__table__.columns)
        assert "UCARL" not in row and "UPAT" not in row
        assert len(answer.respondent) == 64


def test_pulse_closed_round_keeps_nothing_that_links_a_recipient_to_an_answer(rapport):
    _round_sent(rapport)
    for user, score in (("UCARL", 4), ("UPAT", 3)):
        click(rapport, user, score, answer_value(prompts(rapport.fake, user)[0]))
    rapport.fake.wait_for("chat.update", count=2)
    rapport.clock.advance(days=3, seconds=1)
    with job_context(rapport) as context:
        tick(context)  # the round has closed
    with rapport.db.transaction() as session:
        people = set(session.scalars(select(PulseRecipient.user_id)))
        tokens = set(session.scalars(select(PulseAnswer.respondent)))
        stored = {
            value
            for table in metadata.sorted_tables
            for row in session.execute(table.select())
            for value in row
            if isinstance(value, str)
        }
    assert people == {"UALICE", "UCARL", "UPAT", "UPRIYA"} and len(tokens) == 2
    # no stored value (the round's secret least of all) recomputes anyone's token
    linked = {
        user for user in people for key in stored if respondent_token(key, TEAM_ID, user) in tokens
    }
    assert linked == set()


def test_pulse_click_on_a_closed_round_says_so_politely(rapport):
    _round_sent(rapport)
    value = answer_value(prompts(rapport.fake, "UCARL")[0])
    rapport.clock.advance(days=3, seconds=1)
    click(rapport, "UCARL", 5, value)
    (reply,) = rapport.fake.wait_for("response_url")
    assert "This round has closed" in reply.args["text"]
    assert reply.args["replace_original"] in (False, "false")
    assert _answers(rapport.db) == []


def test_pulse_button_replayed_by_a_non_member_or_another_workspace_is_refused(rapport):
    _round_sent(rapport)
    value = answer_value(prompts(rapport.fake, "UCARL")[0])
    click(rapport, "UEVE", 1, value)
    (reply,) = rapport.fake.wait_for("response_url")
    assert "not part of" in reply.args["text"]
    rapport.slack.block_action("pulse_answer_1", value=value, user="UCARL", team="T0OTHER")
    second = rapport.fake.wait_for("response_url", count=2)[-1]
    assert "no longer exists" in second.args["text"]
    rapport.slack.block_action("pulse_answer_1", value="garbage", user="UCARL")
    third = rapport.fake.wait_for("response_url", count=3)[-1]
    assert "out of date" in third.args["text"]
    assert _answers(rapport.db) == []


def test_pulse_comment_button_opens_a_modal_and_the_comment_is_kept_anonymously(rapport):
    _round_sent(rapport)
    round_id = rounds(rapport.db)[0].id
    rapport.slack.block_action(
        "pulse_comment",
        value=str(round_id),
        user="UCARL",
        container={"type": "message", "message_ts": "1700000001.000001", "channel_id": "DCARL"},
    )
    (opened,) = rapport.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "pulse_comment"
    submitted = rapport.slack.view_submission(
        "pulse_comment",
        {"comment": {"value": {"type": "plain_text_input", "value": "More overlap <!channel>"}}},
        user="UCARL",
        private_metadata=view["private_metadata"],
    )
    assert submitted.status == 200 and submitted.body == ""
    (update,) = rapport.fake.wait_for("chat.update")
    assert "Change your comment" in str(update.args["blocks"])
    with rapport.db.transaction() as session:
        (comment,) = session.scalars(select(PulseComment)).all()
    assert comment.text == "More overlap <!channel>" and "UCARL" not in comment.respondent


def test_pulse_comment_on_a_closed_round_is_refused_in_the_modal(rapport):
    _round_sent(rapport)
    round_id = rounds(rapport.db)[0].id
    rapport.clock.advance(days=4)
    answer = rapport.slack.view_submission(
        "pulse_comment",
        {"comment": {"value": {"type": "plain_text_input", "value": "late"}}},
        user="UCARL",
        private_metadata=f'{{"round": {round_id}, "channel": "DCARL", "ts": "1.2"}}',
    )
    assert answer.json()["response_action"] == "errors"
    assert "closed" in answer.json()["errors"]["comment"]


def test_pulse_without_arguments_opens_the_feedback_modal_and_counts_in_the_open_round(rapport):
    _round_sent(rapport)
    assert pulse(rapport, "", user="UCARL").status == 200
    (opened,) = rapport.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "pulse_feedback"
    answer = rapport.slack.view_submission(
        "pulse_feedback",
        {
            "score": {"value": {"type": "radio_buttons", "selected_option": {"value": "5"}}},
            "comment": {"value": {"type": "plain_text_input", "value": "Great week"}},
        },
        user="UCARL",
        private_metadata=view["private_metadata"],
    )
    assert answer.json()["response_action"] == "update"
    (stored,) = _answers(rapport.db)
    assert stored.score == 5 and stored.round_id == rounds(rapport.db)[0].id


def test_pulse_feedback_between_rounds_counts_in_the_next_round(rapport):
    make_relationship(rapport.db, rapport.clock)
    give_feedback(rapport, "UCARL", 3)
    (upcoming,) = rounds(rapport.db)
    assert upcoming.day.isoformat() == "2026-03-03"  # the next scheduled Tuesday
    assert [a.round_id for a in _answers(rapport.db)] == [upcoming.id]
    missing = rapport.slack.view_submission(
        "pulse_feedback", {"score": {"value": {}}}, user="UCARL", private_metadata="1"
    )
    assert missing.json()["errors"]["score"] == "Pick a score from 1 to 5."


def test_pulse_feedback_modal_refuses_a_non_member(rapport):
    make_relationship(rapport.db, rapport.clock)
    answer = rapport.slack.view_submission(
        "pulse_feedback",
        {"score": {"value": {"type": "radio_buttons", "selected_option": {"value": "3"}}}},
        user="UEVE",
        private_metadata="1",
    )
    assert "not part of" in answer.json()["errors"]["score"]


def test_pulse_reminder_goes_once_in_the_prompt_thread_to_non_answerers_only(rapport):
    _round_sent(rapport)
    click(rapport, "UCARL", 4, answer_value(prompts(rapport.fake, "UCARL")[0]))
    rapport.fake.wait_for("chat.update")
    closes = rounds(rapport.db)[0].closes_at
    with job_context(rapport) as context:
        rapport.clock.current = closes - timedelta(hours=25)
        tick(context)
        assert reminders(rapport.fake) == []
        rapport.clock.current = closes - timedelta(hours=24)
        tick(context)
        tick(context)
        rapport.clock.advance(hours=1)
        tick(context)
    sent = reminders(rapport.fake)
    assert sorted(c.args["channel"] for c in sent) == ["DALICE", "DPAT", "DPRIYA"]
    by_channel = {c.args["channel"]: c for c in sent}
    (alice_prompt,) = prompts(rapport.fake, "UALICE")
    assert by_channel["DALICE"].args["thread_ts"] != ""
    assert "gentle nudge" in by_channel["DALICE"].args["text"]
    assert alice_prompt.args["channel"] == "UALICE"
