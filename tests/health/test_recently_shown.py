"""Figures Slack has just shown, kept for ``FRESH_FOR`` by the app's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.health import recently_shown
from bot.health.recently_shown import FRESH_FOR, RecentlyShown

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_kept_for_their_relationship_and_workspace_until_they_are_too_old():
    recently: RecentlyShown[str] = RecentlyShown()
    recently.put(1, "T1", "figures", AT)
    assert recently.get(1, "T1", AT) == "figures"
    assert recently.get(1, "T1", AT + FRESH_FOR - timedelta(microseconds=1)) == "figures"
    assert recently.get(1, "T1", AT + FRESH_FOR) is None
    assert recently.get(1, "T2", AT) is None  # the same id in another workspace
    assert recently.get(2, "T1", AT) is None
    assert recently.get(1, "T1", AT - timedelta(seconds=1)) is None  # from the clock's future


def test_the_newest_replace_older_ones_and_the_least_asked_for_go_first(monkeypatch):
    monkeypatch.setattr(recently_shown, "MOST", 2)
    recently: RecentlyShown[str] = RecentlyShown()
    recently.put(1, "T1", "old", AT)
    recently.put(1, "T1", "new", AT)
    assert recently.get(1, "T1", AT) == "new"
    recently.put(2, "T1", "second", AT)
    recently.get(1, "T1", AT)  # asked for: kept before 2
    recently.put(3, "T1", "third", AT)
    assert recently.get(2, "T1", AT) is None
    assert [recently.get(n, "T1", AT) for n in (1, 3)] == ["new", "third"]
