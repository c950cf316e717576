"""Text typed into slash commands arrives escaped (``should_escape``: ``R&D`` comes as
``R&amp;D``): names, titles, questions and cue words are decoded before they are stored or
looked up, and escaped exactly once when shown."""

from __future__ import annotations

from sqlalchemy import select

from bot.checkins.models import CheckIn, Occurrence
from bot.drift.models import DriftWord
from bot.pulse.models import PulseQuestion
from bot.slack import mrkdwn
from tests.checkins.test_flows import checkin, setup
from tests.support.helpers import make_relationship
from tests.support.pulse_helpers import pulse


def test_unescape_undoes_slacks_escaping_and_nothing_else():
    for typed in ("R&D <desk>", "&amp; typed literally", "Café & co", "a < b > c"):
        assert (
            mrkdwn.unescape(typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
            == typed
        )
    assert mrkdwn.unescape("&eacute; &quot;") == "&eacute; &quot;"  # Slack escapes only three


def test_plain_keeps_cron_stars_and_drops_bold():
    assert mrkdwn.plain("*Acme &amp; co* has no `cron 0 9 * * 1`") == (
        "Acme & co has no `cron 0 9 * * 1`"
    )


def test_relationship_named_with_ampersand_is_found_by_show_and_use(rapport):
    make_relationship(rapport.db, rapport.clock, "R&D <desk>")
    make_relationship(rapport.db, rapport.clock, "Other")
    shown = rapport.slack.command("show R&amp;D &lt;desk&gt;", user="UALICE")
    assert shown.text == "R&amp;D &lt;desk&gt;"  # the notification text is mrkdwn too
    assert "*R&amp;D &lt;desk&gt;*" in shown.json()["blocks"][0]["text"]["text"]
    used = rapport.slack.command("use r&amp;d &lt;DESK&gt;", user="UALICE").text
    assert "R&amp;D &lt;desk&gt;" in used and "can't find" not in used


def test_unknown_escaped_name_is_echoed_escaped_once(rapport):
    make_relationship(rapport.db, rapport.clock)
    reply = rapport.slack.command("show Q&amp;A", user="UALICE").text
    assert "“Q&amp;A”" in reply and "&amp;amp;" not in reply


def test_pulse_question_and_name_with_ampersand(rapport):
    make_relationship(rapport.db, rapport.clock, "R&D desk")
    added = pulse(rapport, "questions add Are Q&amp;A sessions &lt;useful&gt;?").text
    assert "Are Q&amp;A sessions &lt;useful&gt;?" in added and "&amp;amp;" not in added
    with rapport.db.transaction() as session:
        assert session.scalars(select(PulseQuestion.text)).all() == [
            "How well is the partnership working for you this week?",
            "Are Q&A sessions <useful>?",
        ]
    results = pulse(rapport, "questions R&amp;D desk", user="UCARL").text
    assert "Are Q&amp;A sessions" in results and "can't find" not in results


def test_checkin_title_with_ampersand_is_stored_decoded_and_found_again(rapport):
    setup(rapport)
    saved = checkin(rapport, 'add "R&amp;D sync" weekly tue 10:00 <@UPAT> tz UTC').text
    assert "R&amp;D sync" in saved and "&amp;amp;" not in saved
    with rapport.db.transaction() as session:
        assert session.scalars(select(CheckIn.title)).all() == ["R&D sync"]
    skipped = checkin(rapport, "skip R&amp;D Bank &amp; holiday").text
    assert skipped.startswith("Skipping *R&amp;D sync*")
    with rapport.db.transaction() as session:
        assert "Bank & holiday" in session.scalars(select(Occurrence.reason)).all()
    removed = checkin(rapport, "remove r&amp;d SYNC").text
    assert "R&amp;D sync" in removed
    with rapport.db.transaction() as session:
        assert session.scalars(select(CheckIn.title)).all() == []


def test_drift_cue_words_with_ampersand_are_stored_decoded(rapport):
    make_relationship(rapport.db, rapport.clock)
    reply = rapport.slack.command("drift words add contract_reference T&amp;Cs", user="UALICE")
    assert "&amp;amp;" not in reply.text
    with rapport.db.transaction() as session:
        (phrase,) = session.scalars(select(DriftWord.phrase)).all()
    assert "&" in phrase and "&amp;" not in phrase
