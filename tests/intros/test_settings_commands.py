"""``/rapport intros`` settings end to end: owners change them, anyone in the relationship
reads them, bad input gets a friendly answer."""

from __future__ import annotations

from tests.support.helpers import make_relationship
from tests.support.intro_helpers import intros_command


def test_intros_are_off_by_default_and_owners_turn_them_on_with_the_next_round(rapport):
    make_relationship(rapport.db, rapport.clock)
    shown = intros_command(rapport, "", user="UCARL")
    assert "off" in shown and "/rapport intros on" in shown
    assert "Rounds" not in shown  # counts are for owners
    answer = intros_command(rapport, "on")
    assert "Intros are on" in answer and "Tuesday 10 March" in answer
    shown = intros_command(rapport, "")
    assert "next round: Tuesday 10 March" in shown
    assert "every 2 weeks on Tuesday, in pairs" in shown
    assert "Rounds* (owners" in shown


def test_owners_change_cadence_size_default_and_history(rapport):
    make_relationship(rapport.db, rapport.clock)
    intros_command(rapport, "on", user="UPAT")
    assert "every 4 week(s)" in intros_command(rapport, "every 4 weeks on friday")
    assert "trios" in intros_command(rapport, "size 3")
    assert "left out" in intros_command(rapport, "default out")
    assert "6 months" in intros_command(rapport, "history 6")
    shown = intros_command(rapport, "")
    assert "every 4 weeks on Friday, in trios" in shown
    assert "never answered are out" in shown and "kept 6 months" in shown
    assert "next round: Friday 6 March" in shown


def test_only_owners_change_settings_but_anyone_sets_their_own(rapport):
    make_relationship(rapport.db, rapport.clock)
    assert "owner" in intros_command(rapport, "on", user="UCARL").lower()
    assert "off" in intros_command(rapport, "", user="UCARL")
    assert "out of intros" in intros_command(rapport, "me off", user="UCARL")
    assert "not taking part" in intros_command(rapport, "", user="UCARL")
    paused = intros_command(rapport, "me pause 3", user="UCARL")
    assert "Monday 23 March" in paused
    assert "paused until Monday 23 March" in intros_command(rapport, "", user="UCARL")
    assert "You're in" in intros_command(rapport, "me on", user="UCARL")


def test_bad_intros_input_is_explained(rapport):
    make_relationship(rapport.db, rapport.clock)
    assert "every 1, 2 or 4 weeks" in intros_command(rapport, "every 3 weeks")
    assert "every 1, 2 or 4 weeks" in intros_command(rapport, "every fortnight")
    assert "Which day?" in intros_command(rapport, "every 2 weeks on someday")
    assert "pairs or trios" in intros_command(rapport, "size 4")
    assert "default in" in intros_command(rapport, "default maybe")
    assert "1 to 36 months" in intros_command(rapport, "history 99")
    assert "Pause for 1 to 26 weeks" in intros_command(rapport, "me pause 0")
    echoed = intros_command(rapport, "every <!channel>")
    assert "<!channel>" not in echoed
    assert "off" in intros_command(rapport, "")  # nothing was changed
