"""Alerts come from the learned score: a souring tone with no cue word alerts and says what
it sounds like, owners' "Not drift" makes one relationship's score less eager (within a
bound, shown in `/rapport drift`), and the old default share moves with the new score."""

from __future__ import annotations

import json

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import event, insert, select

from bot.core.db import READ_ONLY_OPTION, alembic_config, migrate
from bot.drift.models import DriftAlert, DriftSettings
from bot.drift.tone import tone_model
from tests.support.drift_helpers import FORMAL, FRIENDLY, say, signals
from tests.support.helpers import TEAM_ID, make_relationship

SARCASTIC = [
    "Great, another quick fix that took three weeks.",
    "Oh good, the fourth final version. Can't wait.",
    "Wow, a reply within a week, we're honoured.",
]


def _alert_id(post) -> str:
    (value,) = (
        element["value"]
        for block in post.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "drift_not_drift"
    )
    return value


def _feedback_line(rapport) -> str:
    text = rapport.slack.command("drift", user="UCARL").text
    (line,) = (line for line in text.splitlines() if "“Not drift” answers" in line)
    return line


def test_sarcasm_with_no_cue_word_alerts_and_says_what_it_sounds_like(rapport, watched):
    say(rapport, "UPRIYA", FRIENDLY[0])
    say(rapport, "UPRIYA", FRIENDLY[3])
    for text in SARCASTIC:
        say(rapport, "UALICE", text)
    (alert,) = rapport.fake.wait_for(
        "chat.postMessage", lambda c: "drift_acknowledge" in json.dumps(c.args.get("blocks"))
    )
    body = json.dumps(alert.args["blocks"], ensure_ascii=False)
    assert "3 of the last 5 messages (7 days) read as formal or cold" in body
    assert "Sounds like: sarcastic about the work" in body and "Cues:" not in body
    for fragment in ("quick fix", "final version", "honoured"):
        assert fragment not in body
    sarcastic = [signal for signal in signals(rapport) if signal.side == "client"]
    assert [signal.cue_kinds for signal in sarcastic] == ["sarcasm"] * 3
    with rapport.db.transaction() as session:
        assert session.scalar(select(DriftAlert.cue_kinds)) == "sarcasm"


def test_not_drift_makes_the_score_less_eager_and_shows_in_drift_settings(rapport, watched):
    assert _feedback_line(rapport).startswith(
        "• owners' “Not drift” answers: 0 (a message counts as formal from a model score of "
        "0.50; each answer raises it a little, to 0.73 at most)"
    )
    for text in FORMAL[:3]:
        say(rapport, "UALICE", text)
    (alert,) = rapport.fake.wait_for("chat.postMessage")
    before = signals(rapport)[0].score
    rapport.slack.block_action("drift_not_drift", value=_alert_id(alert), user="UPAT")
    (answer,) = rapport.fake.wait_for("response_url")
    assert answer.args["text"] == (
        "<@UPAT> marked this as not drift: those cues will count for less and drift scores "
        "will be a little less eager in this relationship."
    )
    assert "answers: 1 (a message counts as formal from a model score of 0.56;" in (
        _feedback_line(rapport)
    )
    say(rapport, "UALICE", FORMAL[0] + " (again)")
    assert signals(rapport)[-1].score < before


def test_feedback_is_bounded_and_one_way_alerts_dont_count(rapport, watched):
    with rapport.db.transaction() as session:
        for day, kind in enumerate(["formal_tone"] * 6 + ["unanswered"] * 2 + ["one_way"]):
            session.execute(
                insert(DriftAlert).values(
                    team_id=TEAM_ID,
                    relationship_id=watched,
                    channel_id="CSHARED",
                    kind=kind,
                    figure=3,
                    day=f"2026-01-{day + 1:02d}",
                    cue_kinds="",
                    sent_at=rapport.clock.now(),
                )
            )
        ids = list(session.scalars(select(DriftAlert.id).order_by(DriftAlert.id)))
    for alert_id in ids:
        rapport.slack.block_action("drift_not_drift", value=str(alert_id), user="UALICE")
    answers = [call.args["text"] for call in rapport.fake.wait_for("response_url", count=len(ids))]
    eased = "<@UALICE> marked this as not drift: drift scores will be a little less eager"
    one_way = "<@UALICE> marked this as not drift."  # not about the score: changes nothing
    assert sorted(answers) == sorted([f"{eased} in this relationship."] * 8 + [one_way])
    assert "answers: 8 (a message counts as formal from a model score of 0.73;" in (
        _feedback_line(rapport)
    )
    say(rapport, "UALICE", FORMAL[0])
    say(rapport, "UALICE", SARCASTIC[2])
    assert all(signal.score >= 0.5 for signal in signals(rapport))  # still heard


def test_migration_moves_the_old_default_formal_share_and_keeps_owners_choices(db, clock):
    relationships = [  # made with today's models, then taken back to before 0011
        make_relationship(db, clock, name, creator=creator)
        for name, creator in (("Old default", "UALICE"), ("Chosen", "UBOB"))
    ]
    config = alembic_config(db.engine)
    command.downgrade(
        config, ScriptDirectory.from_config(config).get_revision("0011").down_revision
    )
    with db.transaction() as session:
        for relationship_id, share in zip(relationships, (0.25, 0.4), strict=True):
            session.execute(
                insert(DriftSettings.__table__).values(
                    relationship_id=relationship_id,
                    team_id=TEAM_ID,
                    nudge=False,
                    formal_share=share,
                    min_formal=3,
                    unanswered_hours=24,
                    min_unanswered=2,
                    one_way_messages=10,
                    window_days=7,
                    excerpt_days=0,
                    include_bots=False,
                )
            )
    migrate(db.engine)
    with db.transaction() as session:
        shares = dict(
            session.execute(select(DriftSettings.relationship_id, DriftSettings.formal_share)).all()
        )
    assert shares == {relationships[0]: 0.35, relationships[1]: 0.4}


def test_messages_are_scored_before_their_write_transaction_opens(rapport, watched, monkeypatch):
    writing: list[bool] = []  # a write transaction is open
    scored_while_writing: list[bool] = []

    def began(connection) -> None:
        writing.append(not connection.get_execution_options().get(READ_ONLY_OPTION, False))

    def ended(connection) -> None:
        writing.clear()

    model = tone_model()
    score = model.score
    monkeypatch.setattr(
        type(model),
        "score",
        lambda self, *args: scored_while_writing.append(any(writing)) or score(*args),
    )
    for name, listener in (("begin", began), ("commit", ended), ("rollback", ended)):
        event.listen(rapport.db.engine, name, listener)
    try:
        say(rapport, "UALICE", "Morning all")  # loads the relationship's settings first
        say(rapport, "UPRIYA", SARCASTIC[0])
        rapport.slack.command("drift settings", user="UALICE")  # forgets the loaded settings
        say(rapport, "UALICE", FORMAL[0])
    finally:
        for name, listener in (("begin", began), ("commit", ended), ("rollback", ended)):
            event.remove(rapport.db.engine, name, listener)
    assert scored_while_writing == [False, False, False]
    assert [signal.score >= 0.5 for signal in signals(rapport)] == [False, True, True]
