"""The App Home tab, published when someone opens it."""

from __future__ import annotations

import json

from tests.support.helpers import make_relationship


def test_app_home_shows_my_relationships_side_and_role(rapport):
    make_relationship(rapport.db, rapport.clock, "Acme ⇄ Stellar")
    response = rapport.slack.event(
        {"type": "app_home_opened", "user": "UPAT", "channel": "DPAT", "tab": "home"}
    )
    assert response.status == 200
    (publish,) = rapport.fake.wait_for("views.publish")
    assert publish.args["user_id"] == "UPAT"
    view = publish.args["view"]
    text = json.dumps(view, ensure_ascii=False)
    assert view["type"] == "home"
    assert "Acme ⇄ Stellar" in text and "provider owner" in text
    action_ids = [
        e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert action_ids == ["open_setup", "show_help"]


def test_app_home_buttons_open_setup_and_help(rapport):
    rapport.slack.block_action("open_setup", container={"type": "view", "view_id": "VHOME"})
    rapport.slack.block_action("show_help", container={"type": "view", "view_id": "VHOME"})
    calls = rapport.fake.wait_for("views.open", count=2)
    titles = sorted(call.args["view"]["title"]["text"] for call in calls)
    assert titles == ["New relationship", "Rapport help"]


def test_messages_tab_does_not_publish_home(rapport):
    rapport.slack.event(
        {"type": "app_home_opened", "user": "UPAT", "channel": "D1", "tab": "messages"}
    )
    rapport.slack.event({"type": "app_home_opened", "user": "UPAT", "channel": "D1", "tab": "home"})
    rapport.fake.wait_for("views.publish")
    assert len(rapport.fake.calls_to("views.publish")) == 1
