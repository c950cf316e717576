"""People outside a relationship can't read it, nor learn that it exists: every read
command of ``/pulse``, ``/rapport`` and ``/checkin`` answers them exactly as it answers for a
relationship that doesn't exist (signed commands, replies compared word for word)."""

from __future__ import annotations

import json

import pytest

from tests.support.health_helpers import health
from tests.support.helpers import make_relationship

SECRET_QUESTION = "Is the Bob Jones severance on track?"

NAMED = [
    ("/pulse", "questions {}"),
    ("/pulse", "schedule {}"),
    ("/pulse", "settings {}"),
    ("/pulse", "results {}"),
    ("/pulse", "send {}"),
    ("/pulse", "pause {}"),
    ("/rapport", "show {}"),
    ("/rapport", "use {}"),
    ("/rapport", "export {}"),
    ("/rapport", "health {}"),
    ("/rapport", "digest {}"),
    ("/rapport", "digest off {}"),
    ("/rapport", "add <@UNEW> client {}"),
    ("/rapport", "watch <#CNEW> {}"),
]
BY_CHANNEL = [
    ("/pulse", ""),
    ("/pulse", "questions"),
    ("/pulse", "schedule"),
    ("/pulse", "settings"),
    ("/pulse", "results"),
    ("/rapport", "show"),
    ("/rapport", "drift"),
    ("/rapport", "drift words list"),
    ("/rapport", "export"),
    ("/rapport", "health"),
    ("/rapport", "digest"),
    ("/checkin", "list"),
    ("/checkin", "history"),
]


@pytest.fixture
def acme(rapport):
    """Acme ⇄ Stellar watches #shared and has a sensitive question; Zeta Works is UZOE's."""
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",), alerts="CALERTS")
    make_relationship(
        rapport.db,
        rapport.clock,
        "Zeta Works",
        creator="UZOE",
        client_members=(),
        provider_owners=("UZP",),
        provider_members=(),
    )
    added = rapport.slack.command(f"questions add {SECRET_QUESTION}", command="/pulse")
    assert SECRET_QUESTION in added.text
    return rapport


def _reply(rapport, command: str, text: str, user: str, channel: str = "CGENERAL") -> str:
    """The whole answer (text and blocks) as text: the acknowledgement, or the reply after
    an ack of ``/rapport health`` that says nothing (the figures weren't shown moments
    before); "" for one that opens a modal."""
    if command == "/rapport" and text.split()[:1] == ["health"]:
        response = health(rapport, text.removeprefix("health").strip(), user, channel=channel)
    else:
        response = rapport.slack.command(text, command=command, user=user, channel=channel)
    assert response.status == 200
    if not response.body.startswith("{"):
        return response.body
    return json.dumps(response.json(), ensure_ascii=False)


@pytest.mark.parametrize("user", ["UZED", "UZOE"])  # in no relationship, in another one
@pytest.mark.parametrize(("command", "text"), NAMED)
def test_a_relationship_named_by_an_outsider_answers_as_if_it_did_not_exist(
    acme, user, command, text
):
    for name in ("acme", "Acme ⇄ Stellar"):
        theirs = _reply(acme, command, text.format(name), user)
        nobodys = _reply(acme, command, text.format("Nosuch"), user)
        assert theirs == nobodys.replace("Nosuch", name)
        assert "Acme ⇄ Stellar" not in theirs.replace(name, "")
        assert "Bob Jones" not in theirs
    member = _reply(acme, command, text.format("acme"), "UALICE")
    assert "not part of" not in member  # members still reach it


@pytest.mark.parametrize("user", ["UZED", "UZOE"])
@pytest.mark.parametrize(("command", "text"), BY_CHANNEL)
def test_an_outsider_in_a_watched_channel_is_answered_as_anywhere_else(acme, user, command, text):
    for channel in ("CSHARED", "CALERTS"):
        here = _reply(acme, command, text, user, channel)
        assert here == _reply(acme, command, text, user, "CGENERAL")
        assert "Acme ⇄ Stellar" not in here and "Bob Jones" not in here


def test_show_with_a_prefix_lists_only_my_own_relationships(acme):
    make_relationship(acme.db, acme.clock, "Acme payroll", creator="UZOE")
    shown = acme.slack.command("show acme", user="UZOE").text
    assert "Acme payroll" in shown and "Stellar" not in shown
    assert "several" not in shown


@pytest.mark.parametrize(
    "action",
    [
        "use_relationship_{id}",
        "schedule_catch_up",
        "pulse_edit_schedule",
        "pulse_send_now",
        "pulse_give_feedback",
        "checkin_new",
    ],
)
def test_a_forged_button_for_a_relationship_answers_as_if_it_did_not_exist(rapport, action):
    """Buttons carry relationship ids: trying ids one by one must reveal no name."""
    other = make_relationship(rapport.db, rapport.clock, "Secret merger desk", creator="UBOB")
    answers = []
    for relationship_id in (other, other + 1000):
        rapport.slack.block_action(
            action.format(id=relationship_id), value=str(relationship_id), user="UZED"
        )
        answers.append(rapport.fake.wait_for("response_url", count=len(answers) + 1)[-1])
    texts = [answer.args["text"] for answer in answers]
    assert "Secret merger" not in texts[0]
    assert texts[0] == texts[1]
