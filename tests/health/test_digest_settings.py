"""``/rapport digest …`` through signed slash commands: settings, their errors, who may."""

from __future__ import annotations

from tests.support.digest_helpers import at, digest_tick
from tests.support.health_helpers import health_relationship


def test_digest_settings_show_the_defaults_and_the_next_send_in_your_zone(rapport):
    health_relationship(rapport)
    rapport.fake.add_user("UALICE", tz="America/New_York")
    rapport.clock.current = at(2026, 3, 9, 14, 0)  # Monday, 10:00 in New York
    digest_tick(rapport)  # the digest tick asks Slack for the owners' zones
    shown = rapport.slack.command("digest").text
    assert "The weekly health digest of *Acme ⇄ Stellar* is *on*: every Monday at 09:00" in shown
    assert "by DM to each owner of both sides, in their own time zone" in shown
    assert "Next one: Monday 16 March, 09:00 (America/New_York)" in shown
    pat = rapport.slack.command("digest", user="UPAT").text
    assert "Next one: Monday 16 March, 09:00 (UTC)" in pat  # Slack gave no zone for Pat
    member = rapport.slack.command("digest", user="UC1").text
    assert "is *on*: every Monday at 09:00" in member and "Next one" not in member


def test_owners_change_the_day_time_and_where_it_goes(rapport):
    health_relationship(rapport, alerts="CALERTS")
    answer = rapport.slack.command("digest day tuesday 08:30").text
    assert answer == (
        "The weekly health digest of *Acme ⇄ Stellar* goes out every Tuesday at 08:30, "
        "by DM to each owner."
    )
    assert "every Thursday at 16:00" in rapport.slack.command("digest day thu 4pm").text
    assert "in the alerts channel" in rapport.slack.command("digest channel", user="UPAT").text
    shown = rapport.slack.command("digest").text
    assert "every Thursday at 16:00, in <#CALERTS>, once, when the first owner's time" in shown
    assert "Next one: Thursday 5 March, 16:00 (UTC)" in shown
    assert "by DM" in rapport.slack.command("digest dm").text
    assert rapport.slack.command("digest off").text == (
        "The weekly health digest of *Acme ⇄ Stellar* is off."
    )
    off = rapport.slack.command("digest").text
    assert "is *off*. `/rapport digest on` sends it again, every Thursday at 16:00." in off
    assert "every Thursday at 16:00" in rapport.slack.command("digest on").text


def test_digest_bad_input_gets_a_friendly_answer(rapport):
    health_relationship(rapport)
    funday = rapport.slack.command("digest day funday 08:30").text
    assert "`funday` isn't a day of the week." in funday and "Usage: `/rapport digest`" in funday
    late = rapport.slack.command("digest day monday 25:00").text
    assert "Usage: `/rapport digest`" in late and "08:30" not in late.split("Usage")[0]
    assert "Say which day and time" in rapport.slack.command("digest day monday").text
    hostile = rapport.slack.command("digest day <!channel> 9:00").text
    assert "<!channel>" not in hostile and "&lt;!channel&gt;" in hostile
    no_channel = rapport.slack.command("digest channel").text
    assert "has no alerts channel yet: set one with `/rapport alerts #channel`" in no_channel
    assert "is *on*" in rapport.slack.command("digest").text  # nothing was changed


def test_only_owners_change_the_digest_and_outsiders_learn_nothing(rapport):
    health_relationship(rapport)
    for change in ("off", "day friday 10:00", "dm"):
        refused = rapport.slack.command(f"digest {change}", user="UC1").text
        assert "Only owners of *Acme ⇄ Stellar* can change it." in refused
    assert "is *on*: every Monday at 09:00" in rapport.slack.command("digest").text
    outsider = rapport.slack.command("digest", user="UZED").text
    assert "You're not part of a relationship yet" in outsider
    named = rapport.slack.command("digest off Acme", user="UZED").text
    assert named == rapport.slack.command("digest off Nosuch", user="UZED").text.replace(
        "Nosuch", "Acme"
    )  # the same answer as a name nobody uses
