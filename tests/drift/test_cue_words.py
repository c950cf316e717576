"""Owners' cue words: one rule for typing and loading them, limits that keep every
relationship fast, and answers that stay within what Slack can show."""

from __future__ import annotations

import gc
import io
import json
import logging
import threading
from contextlib import closing

import pytest
from sqlalchemy import event, select

from bot.core.db import READ_ONLY_OPTION
from bot.drift import classify
from bot.drift import config as drift_config
from bot.drift import cues as drift_cues
from bot.drift.domain import default_cues
from bot.drift.models import DriftCalming, DriftSignal, DriftWord
from bot.slack import mrkdwn
from scheduler.drift_jobs import alert_unanswered
from tests.support.drift_helpers import FORMAL, alert_posts, say
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship, scheduler_services


def store_words(db, relationship_id: int, *words: tuple[str, str], added: bool = True) -> None:
    """Words written straight into the database, as an older version or an edit could."""
    with db.transaction() as session:
        for kind, phrase in words:
            session.add(
                DriftWord(
                    team_id=TEAM_ID,
                    relationship_id=relationship_id,
                    kind=kind,
                    phrase=phrase,
                    added=added,
                )
            )


def cue_kinds_by_channel(db) -> dict[str, list[str]]:
    with db.transaction() as session:
        found: dict[str, list[str]] = {}
        for signal in session.scalars(select(DriftSignal).order_by(DriftSignal.posted_at)):
            found.setdefault(signal.channel_id, []).append(signal.cue_kinds)
        return found


@pytest.mark.parametrize(
    ("word", "why"),
    [("!!!", "needs at least one letter or digit"), ("x" * 81, "at most 80 characters")],
)
def test_a_word_the_cue_loader_would_refuse_is_refused_when_typed(rapport, word, why):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    reply = rapport.slack.command(f"drift words add escalation {word}", user="UALICE")
    assert reply.status == 200
    assert "can't be a cue word" in reply.text and why in reply.text
    with rapport.db.transaction() as session:
        assert session.scalars(select(DriftWord)).all() == []
    say(rapport, "UALICE", "We will escalate this!!!")
    assert cue_kinds_by_channel(rapport.db)["CSHARED"] == ["escalation"]


def test_a_bad_stored_word_is_skipped_and_logged_and_stops_nothing(rapport, caplog):
    acme = make_relationship(rapport.db, rapport.clock, "Acme", channels=("CSHARED",))
    make_relationship(
        rapport.db,
        rapport.clock,
        "Other",
        creator="UBOB",
        client_members=(),
        provider_owners=("UOLGA",),
        provider_members=(),
        channels=("COTHER",),
        alerts="COTHERALERTS",
    )
    store_words(
        rapport.db,
        acme,
        ("escalation", "!!!"),
        ("escalation", "y" * 81),
        ("vibes", "bad vibes"),  # a kind this version doesn't know
        ("change_request", "ticket of doom"),
    )
    store_words(rapport.db, acme, ("sla_penalty", "???"), added=False)

    # start-up: every watched relationship is prepared, the bad words skipped and logged
    with caplog.at_level(logging.WARNING), closing(scheduler_services(rapport)) as services:
        try:
            services.prepare_to_serve()
        finally:
            gc.unfreeze()
        with rapport.db.read() as session:
            words = services.drift_configs.get(session, acme).cues.words()
    assert "ticket of doom" in words["change_request"] and "!!!" not in words["escalation"]
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 4 and all(f"relationship {acme}" in line for line in skipped)
    assert not any("!!!" in line or "???" in line for line in skipped)

    # message events of both relationships are scored, the good owner word included
    say(rapport, "UALICE", "Raising a ticket of doom for this.")
    for text in FORMAL[1:3]:
        say(rapport, "UBOB", text, channel="COTHER")
    kinds = cue_kinds_by_channel(rapport.db)
    assert kinds["CSHARED"] == ["change_request"]
    assert len(kinds["COTHER"]) == 2 and all(kinds["COTHER"])

    # the owner's settings still answer
    settings = rapport.slack.command("drift", user="UALICE").text
    assert "Drift alerts for Acme" in settings and "something went wrong" not in settings

    # the scheduled job still alerts the other relationship about its unanswered requests
    for text in FORMAL[1:3]:
        say(rapport, "UALICE", text)
    rapport.clock.advance(hours=25)
    with closing(scheduler_services(rapport)) as services:
        assert alert_unanswered(services) == 2
    posts = alert_posts(rapport)
    unanswered = [p for p in posts if "no reply from the other side" in json.dumps(p.args)]
    assert "COTHERALERTS" in {p.args["channel"] for p in unanswered}


def test_a_relationship_whose_cues_fail_to_load_doesnt_stop_start_up(rapport, monkeypatch, caplog):
    broken = make_relationship(rapport.db, rapport.clock, "Broken", channels=("CSHARED",))
    fine = make_relationship(rapport.db, rapport.clock, "Fine", creator="UBOB", channels=("COK",))
    real_load = drift_config.load_config

    def load(session, relationship_id):
        if relationship_id == broken:
            raise ValueError("cue data this version can't compile")
        return real_load(session, relationship_id)

    monkeypatch.setattr(drift_config, "load_config", load)
    with caplog.at_level(logging.WARNING), closing(scheduler_services(rapport)) as services:
        try:
            services.prepare_to_serve()
        finally:
            gc.unfreeze()
        assert fine in services.drift_configs._entries
    assert f"couldn't preload drift settings of relationship {broken}" in caplog.text


def test_an_alert_names_cue_words_never_the_words_a_pattern_matched(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",), alerts="CALERTS")
    for text in FORMAL[:2]:
        say(rapport, "UALICE", text)
    # "asked … twice" is a pattern with a stretch of any words: here a name and a figure
    say(rapport, "UALICE", "We asked about Bob Jones 90k severance payout twice.")
    (alert,) = rapport.fake.wait_for(
        "chat.postMessage", lambda c: "drift_acknowledge" in json.dumps(c.args.get("blocks"))
    )
    sent = json.dumps(alert.args, ensure_ascii=False)
    assert 'escalation (\\"asked three times\\")' in sent  # the pattern's name
    for private in ("Bob", "Jones", "90k", "severance", "payout"):
        assert private not in sent


def test_owners_add_at_most_200_words_and_hear_how_many_are_left(rapport):
    acme = make_relationship(rapport.db, rapport.clock, "Acme", channels=("CSHARED",))
    reply = rapport.slack.command("drift words add escalation going to the board", user="UALICE")
    assert "now counts as escalation in *Acme*. 199 more words can be added." in reply.text
    store_words(rapport.db, acme, *[("change_request", f"ticket type {n}") for n in range(198)])
    last = rapport.slack.command("drift words add escalation see you in court", user="UALICE")
    assert "That was the last of the 200 words a relationship can add." in last.text
    refused = rapport.slack.command("drift words add escalation one more", user="UALICE")
    assert "already has 200 words of its own" in refused.text and "none are left" in refused.text
    assert "`/rapport drift words remove <kind> <words>`" in refused.text
    again = rapport.slack.command("drift words add escalation see you in court", user="UALICE")
    assert "now counts" in again.text  # adding a word it has already takes no place
    rapport.slack.command("drift words remove change_request ticket type 7", user="UALICE")
    assert "now counts" in rapport.slack.command("drift words add escalation one more").text
    with rapport.db.transaction() as session:
        assert len(session.scalars(select(DriftWord).where(DriftWord.added)).all()) == 200


SLACK_TEXT_LIMIT = 40_000
SECTION_TEXT_LIMIT = 3_000


def test_word_lists_stay_within_slack_limits_however_many_words_are_stored(rapport):
    acme = make_relationship(rapport.db, rapport.clock, "Acme", channels=("CSHARED",))
    many = [f"{n:04d} " + "long winded owner phrase " * 3 for n in range(3000)]
    store_words(rapport.db, acme, *[("escalation", word.strip()[:80]) for word in many])
    store_words(
        rapport.db,
        acme,
        *[("formal_register", f"switched off {n}") for n in range(700)],
        added=False,
    )
    for command in ("drift", "drift words list"):
        text = rapport.slack.command(command, user="UCARL").text
        assert len(text) <= SECTION_TEXT_LIMIT * 3 < SLACK_TEXT_LIMIT
        assert "*Added by owners (3000):*" in text and "… and " in text
        assert "*Switched off (700):*" in text
    first = rapport.slack.command("drift words list escalation", user="UCARL").text
    assert len(first) <= SECTION_TEXT_LIMIT
    assert "`/rapport drift words list escalation 2` shows the next" in first
    pages = int(first.rsplit("Page 1 of ", 1)[1].split(".")[0])
    last = rapport.slack.command(f"drift words list escalation {pages}", user="UCARL").text
    assert len(last) <= SECTION_TEXT_LIMIT and f"Page {pages} of {pages}." in last
    assert "shows the next" not in last
    assert mrkdwn.escape(default_cues().words()["escalation"][-1]) in last  # the very last
    bad_page = rapport.slack.command("drift words list escalation last", user="UCARL").text
    assert "Which page?" in bad_page


def test_cue_sets_are_built_once_and_never_inside_a_write_transaction(rapport, monkeypatch):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    writing: dict[int, bool] = {}  # thread -> inside a transaction that may write

    def began(connection) -> None:
        writing[threading.get_ident()] = not connection.get_execution_options().get(
            READ_ONLY_OPTION, False
        )

    def ended(_connection) -> None:
        writing[threading.get_ident()] = False

    builds: list[bool] = []  # per cue set built: was a write transaction open?
    build = drift_cues.CueSet.__init__

    def counted_build(cue_set, spec) -> None:
        builds.append(writing.get(threading.get_ident(), False))
        build(cue_set, spec)

    default_cues()  # (loaded once per process)
    drift_cues._overridden.cache_clear()  # sets compiled by earlier tests
    monkeypatch.setattr(drift_cues.CueSet, "__init__", counted_build)
    for name, listener in (("begin", began), ("commit", ended), ("rollback", ended)):
        event.listen(rapport.db.engine, name, listener)
    try:
        rapport.slack.command("drift words add change_request ticket of doom", user="UALICE")
        for _ in range(3):
            say(rapport, "UALICE", "Raising a ticket of doom for this.")
        assert builds == [False]  # built once, before the first event's write transaction
        drift_cues._overridden.cache_clear()
        assert "ticket of doom" in rapport.slack.command("drift words list", user="UALICE").text
        assert "`contract_reference`" in rapport.slack.command("drift", user="UALICE").text
        assert builds == [False, False]
    finally:
        for name, listener in (("begin", began), ("commit", ended), ("rollback", ended)):
            event.remove(rapport.db.engine, name, listener)
    assert cue_kinds_by_channel(rapport.db)["CSHARED"] == ["change_request"] * 3


def test_a_message_whose_settings_are_loaded_takes_one_transaction(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    say(rapport, "UALICE", "Morning all")  # loads the relationship's settings
    begun: list[bool] = []  # per transaction: read-only?

    def began(connection) -> None:
        begun.append(connection.get_execution_options().get(READ_ONLY_OPTION, False))

    event.listen(rapport.db.engine, "begin", began)
    try:
        say(rapport, "UCARL", "Thanks, that works")
        assert begun == [False]  # the message's write, no read to prepare it first
        rapport.slack.command("drift settings", user="UALICE")  # forgets the loaded settings
        begun.clear()
        say(rapport, "UALICE", "Lunch on Thursday?")
        assert begun == [True, False]  # loaded again, outside the write
    finally:
        event.remove(rapport.db.engine, "begin", began)


def test_members_try_a_message_privately_and_nothing_is_stored(rapport):
    make_relationship(rapport.db, rapport.clock, "Acme", channels=("CSHARED",))
    rapport.slack.command("drift words add change_request ticket of doom", user="UALICE")
    # Slack escapes what people type in a slash command: & < > arrive as entities
    tried = rapport.slack.command(
        "drift try Raising a ticket of doom &amp; &lt;!channel&gt;: we asked about "
        'Bob Jones twice, "please" note',
        user="UCARL",
    )
    assert tried.status == 200 and "in_channel" not in tried.body  # only the person sees it
    text = tried.text
    assert "*Acme* would score “Raising a ticket of doom &amp; &lt;!channel&gt;" in text
    assert '"please" note”' in text and "counts as formal" in text
    assert "`change_request` “ticket of doom”" in text  # the owner's word, by its kind's id
    assert "`escalation` “asked three times”" in text and "Jones" not in text.split("”", 1)[1]
    assert "<!channel>" not in text and "Nothing was stored" in text
    assert cue_kinds_by_channel(rapport.db) == {}
    assert rapport.fake.calls_to("chat.postMessage") == []
    outsider = rapport.slack.command("drift try hi", user="UZED", channel="CSHARED")
    assert "You're not part of a relationship" in outsider.text  # nor told Acme exists
    assert "Acme" not in outsider.text
    assert "Which message?" in rapport.slack.command("drift try  ", user="UCARL").text


def test_kinds_are_shown_by_the_name_commands_take(rapport, capsys):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    listed = rapport.slack.command("drift words list", user="UCARL").text
    assert "`sla_penalty` (SLA / penalty)" in listed and "`escalation` " in listed
    kind = rapport.slack.command("drift words list SLA-penalty", user="UCARL").text
    assert kind.startswith("*`sla_penalty` (SLA / penalty)* cues")
    help_text = rapport.slack.command("help").text
    assert "`/rapport drift try <message>`" in help_text
    assert "`/rapport drift words list [kind]`" in help_text
    out = io.StringIO()
    assert classify.main(["Service credits will apply."], io.StringIO(), out) == 0
    assert 'sla_penalty: SLA / penalty ("Service credits")' in out.getvalue()


def test_a_bad_stored_word_can_still_be_removed_and_frees_its_place(rapport):
    acme = make_relationship(rapport.db, rapport.clock, "Acme", channels=("CSHARED",))
    store_words(rapport.db, acme, ("escalation", "!!!"))
    reply = rapport.slack.command("drift words remove escalation !!!", user="UALICE")
    assert reply.status == 200 and "can't be a cue word" not in reply.text
    with rapport.db.transaction() as session:
        assert session.scalars(select(DriftWord.phrase)).all() == []


def test_owners_words_and_calmings_load_together_each_where_it_belongs(rapport):
    relationship_id = make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    kinds = list(default_cues().labels)
    store_words(rapport.db, relationship_id, (kinds[1], "zebra crossing"), (kinds[0], "aardvark"))
    with rapport.db.transaction() as session:
        session.add_all(
            DriftCalming(team_id=TEAM_ID, relationship_id=relationship_id, kind=kind, presses=n)
            for kind, n in ((kinds[0], 2), (kinds[2], 1))
        )
    with rapport.db.read() as session:
        config = drift_config.load_config(session, relationship_id)
    # by kind, then phrase
    assert config.changes == tuple(
        sorted([(kinds[0], "aardvark", True), (kinds[1], "zebra crossing", True)])
    )
    assert config.calmed == {
        kinds[0]: drift_config.CALMING_STEP**2,
        kinds[2]: drift_config.CALMING_STEP,
    }
    assert "aardvark" in config.cues.words()[kinds[0]]
