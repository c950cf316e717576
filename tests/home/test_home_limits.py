"""Home within Block Kit's limits for someone in many busy relationships: at most 100 blocks,
the cards that don't fit counted in an "and N more" line, and no text over its limit."""

from __future__ import annotations

from tests.support.helpers import make_relationship
from tests.support.home_helpers import add_alert, open_home, text_of

RELATIONSHIPS = 30
KINDS = ("formal_tone", "unanswered", "one_way")


def test_many_relationships_stay_within_100_blocks(rapport):
    for n in range(RELATIONSHIPS):
        name = f"{n:02d} " + "Acme Incorporated ⇄ Stellar <Support> & Co " * 2
        relationship_id = make_relationship(rapport.db, rapport.clock, name[:80])
        for kind in KINDS:
            add_alert(rapport, relationship_id, kind)
        add_alert(rapport, relationship_id, "formal_tone", channel="COTHER")
    view = open_home(rapport, "UALICE")
    blocks = view["blocks"]
    assert len(blocks) <= 100
    shown = text_of(view)
    cards = shown.count("you're client owner")
    assert 0 < cards < RELATIONSHIPS
    assert f"…and {RELATIONSHIPS - cards} more — `/rapport list` shows them all." in shown
    assert "00 Acme Incorporated ⇄ Stellar &lt;Support&gt; &amp; Co" in shown  # escaped
    assert shown.count("1 more open drift alert(s) not shown.") == cards
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            assert all(len(button["text"]["text"]) <= 75 for button in block["elements"])
    assert blocks[-1]["type"] == "actions"  # set up and help still there
