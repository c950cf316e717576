"""No workspace reaches another's data: every button and command, replayed from another
workspace with ids that exist, is refused and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.checkins.models import CheckIn, Occurrence, Rsvp
from bot.drift.models import DriftAlert, DriftCalming
from bot.pulse.models import PulseAnswer, PulseRecipient
from bot.relationships.models import CurrentRelationship, Member, OrganisationSide
from bot.slack.models import SentMessage
from tests.checkins.test_flows import ADD, checkin
from tests.support.drift_helpers import FORMAL, say
from tests.support.helpers import make_relationship
from tests.support.pulse_helpers import answer_value, job_context, prompts, pulse, tick

OTHER = "T0EVIL"


def count(rapport, model) -> int:
    with rapport.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def workspace_a(rapport) -> dict[str, str]:
    """Acme's data: a relationship, a drift alert, a pulse prompt and a check-in occurrence."""
    for user, tz in (
        ("UALICE", "Europe/London"),
        ("UPAT", "Europe/London"),
        ("UPRIYA", "Asia/Kolkata"),
        ("UCARL", "Europe/London"),
    ):
        rapport.fake.add_user(user, tz=tz)
    acme = make_relationship(rapport.db, rapport.clock, channels=("CSHARED",), alerts="CALERTS")
    for text in FORMAL[:3]:
        say(rapport, "UALICE", text)
    assert "open" in pulse(rapport, "send").text
    with job_context(rapport) as context:
        tick(context)
    checkin(rapport, f"add {ADD}")
    with rapport.db.transaction() as session:
        alert = session.scalars(select(DriftAlert)).one()
        occurrence = session.scalars(select(Occurrence)).first()
    return {
        "relationship": str(acme),
        "alert": str(alert.id),
        "answer": answer_value(prompts(rapport.fake, "UCARL")[0]),
        "round": answer_value(prompts(rapport.fake, "UCARL")[0]).split(":")[0],
        "occurrence": str(occurrence.id),
    }


def test_buttons_replayed_from_another_workspace_change_nothing(rapport):
    ids = workspace_a(rapport)
    # UALICE owns Acme in T0ACME; in T0EVIL the same id owns another relationship.
    make_relationship(rapport.db, rapport.clock, "Evil Corp", team=OTHER, channels=("CEVIL",))
    opened_before = len(rapport.fake.calls_to("views.open"))
    org_option = {"value": f"{ids['relationship']}|T0X|provider|X"}
    clicks = [
        ("drift_acknowledge", {"value": ids["alert"]}),
        ("drift_not_drift", {"value": ids["alert"]}),
        ("schedule_catch_up", {"value": ids["relationship"]}),
        (f"use_relationship_{ids['relationship']}", {"value": ids["relationship"]}),
        ("map_organisation_T0X", {"selected_option": org_option}),
        ("pulse_answer_5", {"value": ids["answer"]}),
        ("pulse_comment", {"value": ids["round"]}),
        ("checkin_rsvp_yes", {"value": ids["occurrence"]}),
        ("checkin_outcome_held", {"value": ids["occurrence"]}),
    ]
    for action_id, args in clicks:
        response = rapport.slack.block_action(action_id, user="UALICE", team=OTHER, **args)
        assert response.status == 200, action_id
    rapport.fake.wait_for("response_url", count=len(clicks) - 2, timeout=10)  # refusals
    with rapport.db.transaction() as session:
        alert = session.get(DriftAlert, int(ids["alert"]))
        assert (alert.acknowledged_by, alert.not_drift_by) == (None, None)
        assert session.get(Occurrence, int(ids["occurrence"])).outcome is None
        assert session.get(CurrentRelationship, (OTHER, "UALICE")) is None
    assert count(rapport, DriftCalming) == 0
    assert count(rapport, OrganisationSide) == 0
    assert count(rapport, PulseAnswer) == 0
    assert count(rapport, Rsvp) == 0
    assert len(rapport.fake.calls_to("views.open")) == opened_before
    # the control: from its own workspace, the very same clicks do take effect
    rapport.slack.block_action("drift_acknowledge", value=ids["alert"], user="UALICE")
    rapport.slack.block_action("pulse_answer_5", value=ids["answer"], user="UCARL")
    rapport.slack.block_action("checkin_rsvp_yes", value=ids["occurrence"], user="UPAT")
    rapport.fake.wait_for("response_url", lambda c: "be there" in c.args.get("text", ""))
    rapport.fake.wait_for("chat.update", lambda c: "UCARL" in str(c.args) or True)
    with rapport.db.transaction() as session:
        assert session.get(DriftAlert, int(ids["alert"])).acknowledged_by == "UALICE"
    assert count(rapport, PulseAnswer) == 1
    assert count(rapport, Rsvp) == 1


def test_commands_from_another_workspace_cannot_name_this_ones_relationship(rapport):
    workspace_a(rapport)
    make_relationship(rapport.db, rapport.clock, "Evil Corp", team=OTHER, creator="UEVE")
    assert "can't find" in rapport.slack.command("show Acme", user="UEVE", team=OTHER).text
    assert (
        "can't find"
        in rapport.slack.command(
            "add <@UEVE> client owner Acme ⇄ Stellar", user="UEVE", team=OTHER
        ).text
    )
    watch = rapport.slack.command("watch <#CSHARED|x>", user="UEVE", team=OTHER).text
    assert "Acme" not in watch  # watched in T0EVIL's own relationship, not Acme's
    results = pulse(rapport, "results", user="UEVE", team=OTHER).text
    assert "Acme" not in results

    def listed(user: str, team: str, relationship: str) -> str:
        """/checkin list answers in the ack when there is nothing to list, else (the person's
        zone unknown yet) after it, through the response URL."""
        acked = rapport.slack.command("list", command="/checkin", user=user, team=team)
        if acked.body:
            return str(acked.json())
        (reply,) = rapport.fake.wait_for(
            "response_url", lambda c: f"Check-ins of {relationship}" in c.args.get("text", "")
        )
        return str(reply.args)

    assert "*1. Ops catch-up*" in listed("UALICE", "T0ACME", "Acme")  # the control
    assert "*1. Ops catch-up*" not in listed("UEVE", OTHER, "Evil Corp")


def test_export_and_forget_me_from_another_workspace_leave_this_one_alone(rapport):
    workspace_a(rapport)
    # UALICE owns Acme in T0ACME; in T0EVIL the same id owns Evil Corp.
    make_relationship(rapport.db, rapport.clock, "Evil Corp", team=OTHER, channels=("CEVIL",))

    def acme_rows() -> dict[str, int]:
        """UALICE's data in T0ACME, which nothing done in T0EVIL may touch."""
        with rapport.db.transaction() as session:
            return {
                model.__name__: session.scalar(
                    select(func.count())
                    .select_from(model)
                    .where(model.team_id == "T0ACME", column == "UALICE")
                )
                for model, column in (
                    (Member, Member.user_id),
                    (PulseRecipient, PulseRecipient.user_id),
                    (SentMessage, SentMessage.channel),
                    (CheckIn, CheckIn.created_by),
                )
            }

    before = acme_rows()
    assert all(before.values())
    named = rapport.slack.command("export Acme ⇄ Stellar", user="UALICE", team=OTHER)
    assert "can't find" in named.text
    assert "Preparing" in rapport.slack.command("export", user="UALICE", team=OTHER).text
    rapport.fake.wait_for("files.completeUploadExternal")
    (drift,) = [f for f in rapport.fake.shared_files("DALICE") if "-drift-" in f["name"]]
    assert drift["name"].startswith("evil-corp-")
    exported = drift["data"].decode("utf-8-sig")
    assert "CEVIL" in exported and "CSHARED" not in exported

    rapport.slack.command("forget-me", user="UALICE", team=OTHER)
    rapport.slack.block_action("forget_me_confirm", value="UALICE", user="UALICE", team=OTHER)
    (done,) = rapport.fake.wait_for("response_url", lambda c: "Done." in c.args.get("text", ""))
    assert "removed you from 1 relationship" in done.args["text"]  # Evil Corp only
    assert acme_rows() == before
