"""``/rapport export`` and ``/rapport forget-me`` end to end: signed commands and clicks in,
CSV files uploaded to the fake Slack and parsed back, the database scanned afterwards."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select

from bot.checkins.models import CheckIn, Occurrence
from bot.health.chart_series import relationship_charts
from bot.health.index import compute_health
from bot.privacy.export import neutralise, to_csv
from bot.pulse.anonymity import respondent_token
from bot.pulse.models import PulseAnswer, PulseComment, PulseRound
from bot.relationships.models import Member, Relationship
from bot.schema import metadata
from bot.slack.models import SentMessage
from tests.checkins.test_flows import checkin, occurrences
from tests.checkins.test_flows import tick as checkin_tick
from tests.pulse.test_results import _close, _comment, _round
from tests.support.drift_helpers import FORMAL, say
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship

CLIENTS = ("UC1", "UC2", "UC3")
EVERYONE = ("UALICE", *CLIENTS, "UPAT", "UPRIYA")
COMMENT = "Secret sauce: the PM is wonderful"
TITLE = "=SUM(1+2) review"
ADD = f'"{TITLE}" weekly tue 10:00 <@UPAT> <@UC1> tz Europe/London'


def acme_with_history(rapport) -> int:
    """Client: UALICE (owner) and UC1–UC3; provider: UPAT (owner) and UPRIYA. One closed pulse
    round (3 client and 2 provider answers), a held check-in, three formal messages by UC1."""
    for user in EVERYONE:
        rapport.fake.add_user(user, tz="Europe/London")
    acme = make_relationship(
        rapport.db, rapport.clock, client_members=CLIENTS, channels=("CSHARED",)
    )
    round_id = _round(rapport, {"UC1": 5, "UC2": 4, "UC3": 3, "UPAT": 2, "UPRIYA": 1})
    _comment(rapport, "UC1", round_id, COMMENT)
    assert "saved" in checkin(rapport, f"add {ADD}").text
    for text in FORMAL[:3]:
        say(rapport, "UC1", text)
    assert "now act on" in rapport.slack.command("use Acme", user="UC1").text
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert checkin_tick(rapport) == 2  # the day-before reminders, to UPAT and UC1
    (occurrence,) = occurrences(rapport)
    for user in ("UPAT", "UC1"):
        rapport.slack.block_action("checkin_rsvp_yes", value=str(occurrence.id), user=user)
    rapport.fake.wait_for("response_url", lambda c: "you'll be there" in c.args["text"], count=2)
    _close(rapport)  # Thursday 10:01: the round has closed, the check-in has happened
    rapport.slack.block_action("checkin_outcome_held", value=str(occurrence.id), user="UALICE")
    rapport.fake.wait_for("views.open")  # the note form, once the outcome is saved
    return acme


def export(rapport, user: str = "UALICE", **kwargs) -> dict[str, list[dict[str, str]]]:
    """Run ``/rapport export``; the uploaded files by section, parsed as CSV."""
    before = len(rapport.fake.calls_to("files.completeUploadExternal"))
    reply = rapport.slack.command("export", user=user, **kwargs)
    assert reply.text == "Preparing your export… I'll send it to you in a DM."
    # charts are drawn first: on a busy machine that takes seconds
    rapport.fake.wait_for("files.completeUploadExternal", count=before + 1, timeout=30)
    files = [f for f in rapport.fake.shared_files("D" + user[1:]) if f["name"].endswith(".csv")]
    return {
        file["name"].split("-")[-4]: list(
            csv.DictReader(io.StringIO(file["data"].decode("utf-8-sig")))
        )
        for file in files[-3:]
    }


def raw_export(rapport, user: str = "UALICE") -> str:
    """Every CSV file exported, as text."""
    return "".join(
        f["data"].decode("utf-8-sig")
        for f in rapport.fake.shared_files("D" + user[1:])
        if f["name"].endswith(".csv")
    )


def test_export_is_for_owners_only(rapport):
    acme_with_history(rapport)
    reply = rapport.slack.command("export", user="UC1")
    assert "Only owners of *Acme ⇄ Stellar* can export its data" in reply.text
    assert rapport.fake.calls_to("files.getUploadURLExternal") == []


def test_export_uploads_three_anonymous_csv_files_by_dm(rapport):
    acme_with_history(rapport)
    files = export(rapport)

    (complete,) = rapport.fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "DALICE"
    assert "export of *Acme ⇄ Stellar*" in complete.args["initial_comment"]
    names = [f["name"] for f in rapport.fake.shared_files("DALICE")]
    assert names[:3] == [
        f"acme-stellar-{kind}-2026-03-05.csv" for kind in ("pulse", "checkins", "drift")
    ]

    client, provider = files["pulse"]
    assert client["side"] == "client" and client["round_closed_utc"] == "2026-03-05 09:00"
    assert (client["recipients"], client["respondents"], client["response_rate_percent"]) == (
        "4",
        "3",
        "75",
    )
    assert client["average"] == "4.0"
    assert client["frontline_average"] == client["managers_average"] == ""  # 3 front-line, 0
    assert (provider["respondents"], provider["average"]) == ("2", "")  # under 3: hidden
    assert client["client_minus_provider"] == provider["client_minus_provider"] == ""

    (held,) = files["checkins"]
    assert held["checkin"] == "'" + TITLE  # neutralised: a spreadsheet shows it, doesn't run it
    assert (held["starts_utc"], held["starts_local"], held["time_zone"]) == (
        "2026-03-03 10:00",
        "2026-03-03 10:00",
        "Europe/London",
    )
    assert (held["outcome"], held["attending"], held["not_attending"]) == ("held", "2", "0")

    (window,) = files["drift"]
    assert window["channel"] == "CSHARED"
    assert (window["window_start_utc"], window["window_end_utc"]) == (
        "2026-02-26 10:01",
        "2026-03-05 10:01",
    )
    assert (window["messages"], window["client_messages"], window["formal"]) == ("3", "3", "3")
    assert window["unanswered"] == "3"  # nobody on the provider side answered in 24 hours
    assert (window["alerts"], window["alert_kinds"]) == ("1", "formal_tone")

    everything = raw_export(rapport)
    assert COMMENT not in everything
    for user in EVERYONE:
        assert user not in everything


def test_export_holds_the_relationships_health_charts_as_png_files(rapport):
    acme = acme_with_history(rapport)
    export(rapport)
    pictures = [f for f in rapport.fake.shared_files("DALICE") if f["name"].endswith(".png")]
    kinds = ("index", "pulse", "adherence", "formal-share")
    assert [f["name"] for f in pictures] == [
        f"acme-stellar-chart-{kind}-2026-03-05.png" for kind in kinds
    ]
    assert pictures[0]["title"] == "Acme ⇄ Stellar: Health index"
    assert all(f["mimetype"] == "image/png" for f in pictures)
    with rapport.db.read() as session:  # the charts every view shows, drawn the same
        relationship = session.get(Relationship, acme)
        index = compute_health(session, relationship, rapport.clock.now())
        charts = relationship_charts(session, index)
    assert [f["data"] for f in pictures] == [chart.render_png() for chart in charts.all()]
    client, provider = charts.pulse.series
    assert client.latest() == 4.0 and provider.latest() is None  # 2 provider answers: hidden


def test_export_names_the_slack_error_when_the_upload_fails(rapport):
    acme_with_history(rapport)
    rapport.fake.fail("files.completeUploadExternal", "not_in_channel")
    rapport.slack.command("export")
    (failed,) = rapport.fake.wait_for(
        "response_url", lambda c: "couldn't send your export" in c.args.get("text", "")
    )
    assert "`not_in_channel`" in failed.args["text"]

    rapport.fake.server_error("upload")  # the upload URL itself refuses the bytes
    rapport.slack.command("export")
    rapport.fake.wait_for(
        "response_url", lambda c: "couldn't send your export." in c.args.get("text", "")
    )
    assert rapport.fake.shared_files("DALICE") == []


def test_typed_text_is_neutralised_against_spreadsheet_formulas_but_numbers_are_not():
    for dangerous in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", " =cmd|' /C calc'!A0"):
        assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("Ops catch-up") == "Ops catch-up"
    rows = list(csv.reader(io.StringIO(to_csv([["gap", "title"], [-0.456, "-x"]]))))
    assert rows[1] == ["-0.46", "'-x"]


# ------------------------------------------------------------------------------ forget-me


def forget(rapport, user: str, **kwargs) -> str:
    """``/rapport forget-me``, then the confirmation clicked; the reply with what went."""
    reply = rapport.slack.command("forget-me", user=user, **kwargs).json()
    buttons = reply["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["forget_me_confirm", "forget_me_cancel"]
    rapport.slack.block_action("forget_me_confirm", value=user, user=user, **kwargs)
    (done,) = rapport.fake.wait_for("response_url", lambda c: "Done." in c.args.get("text", ""))
    assert done.args["replace_original"] is True
    return done.args["text"]


def rows_mentioning(rapport, user_id: str) -> list[tuple[str, tuple]]:
    """Every row, in every table, with ``user_id`` anywhere in it."""
    found = []
    with rapport.db.transaction() as session:
        for table in metadata.sorted_tables:
            for row in session.execute(select(table)):
                if any(user_id in str(value) for value in row):
                    found.append((table.name, tuple(row)))
    return found


def test_forget_me_removes_personal_data_and_keeps_the_anonymous_aggregates(rapport):
    acme_with_history(rapport)
    before = export(rapport)
    assert rows_mentioning(rapport, "UC1")  # membership, prompt, RSVP, signals, ledger, …

    reply = forget(rapport, "UC1")

    assert "removed you from 1 relationship" in reply
    assert "took you out of 1 check-in\n• deleted 1 RSVP" in reply
    assert "removed your name from 1 pulse prompt" in reply
    assert "unlinked your answers in 1 pulse round from you" in reply
    assert "kept 3 messages of yours in watched channels as counts only" in reply
    assert "deleted the record of 2 messages I sent you" in reply  # the prompt, a reminder
    assert "deleted your time zone and `/rapport use` choice" in reply
    assert "handed" not in reply  # they organised no check-in
    assert rows_mentioning(rapport, "UC1") == []
    with rapport.db.transaction() as session:
        (pulse_round,) = session.scalars(select(PulseRound))
        token = respondent_token(pulse_round.secret, TEAM_ID, "UC1")
        answers = session.scalars(select(PulseAnswer)).all()
        comments = session.scalars(select(PulseComment)).all()
    assert len(answers) == 5 and [c.text for c in comments] == [COMMENT]
    assert token not in {a.respondent for a in answers} | {c.respondent for c in comments}
    after = export(rapport)
    assert after["pulse"] == before["pulse"]  # same averages, response rates, recipients
    assert after["drift"] == before["drift"]  # the messages still count, without an author
    assert after["checkins"][0]["attending"] == "1"  # their RSVP is gone


def test_forget_me_asks_first_and_cancel_or_someone_elses_click_forgets_nothing(rapport):
    make_relationship(rapport.db, rapport.clock)
    reply = rapport.slack.command("forget-me", user="UCARL").json()
    assert "can't be undone" in reply["blocks"][0]["text"]["text"]
    confirm, cancel = reply["blocks"][-1]["elements"]
    assert (confirm["value"], confirm["style"]) == ("UCARL", "danger")
    assert cancel["value"] == "UCARL" and "style" not in cancel

    rapport.slack.block_action("forget_me_confirm", value="UCARL", user="UPRIYA")
    rapport.fake.wait_for("response_url", lambda c: "for the person who asked" in c.args["text"])
    rapport.slack.block_action("forget_me_cancel", value="UCARL", user="UCARL")
    rapport.fake.wait_for("response_url", lambda c: "haven't forgotten" in c.args["text"])
    with rapport.db.transaction() as session:
        people = set(session.scalars(select(Member.user_id)))
    assert {"UCARL", "UPRIYA"} <= people
    assert "takes nothing after it" in rapport.slack.command("forget-me please").text
    rapport.slack.block_action("forget_me_confirm", value="UNOBODY", user="UNOBODY")
    rapport.fake.wait_for("response_url", lambda c: "nothing about you to forget" in c.args["text"])


def test_forgetting_the_last_owner_of_a_side_tells_the_remaining_owners(rapport):
    acme_with_history(rapport)
    warning = rapport.slack.command("forget-me", user="UALICE").json()["blocks"][0]
    assert "You're the last client owner of *Acme ⇄ Stellar*" in warning["text"]["text"]

    reply = forget(rapport, "UALICE")

    assert "last client owner of *Acme ⇄ Stellar*: its other owners have been told" in reply
    (notice,) = rapport.fake.wait_for(
        "chat.postMessage", lambda c: "has no client owner" in c.args.get("text", "")
    )
    assert notice.args["channel"] == "UPAT"
    assert "`/rapport add @person client owner Acme ⇄ Stellar`" in notice.args["text"]
    with rapport.db.transaction() as session:
        (ledger,) = session.scalars(
            select(SentMessage).where(SentMessage.key.startswith("side-without-owner:"))
        )
        assert ledger.channel == "UPAT" and "UALICE" not in ledger.key
        assert session.scalars(select(Relationship.created_by)).one() == "forgotten"
        assert session.scalars(select(CheckIn.created_by)).one() == "UPAT"  # organiser now
        occurrence = session.scalars(select(Occurrence)).one()
        assert (occurrence.outcome.value, occurrence.answered_by) == ("held", "forgotten")
    assert rows_mentioning(rapport, "UALICE") == []
