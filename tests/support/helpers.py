"""Shared set-up for end-to-end tests: relationships created through the real domain."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import Any, TypeVar

from bot.core.db import Database
from bot.core.settings import Settings
from bot.relationships.models import Side
from bot.relationships.setup import RelationshipDraft, create_relationship
from bot.services import Services, create_services
from tests.conftest import FakeClock
from tests.support.fake_slack import TEAM_ID

T = TypeVar("T")


def scheduler_services(rapport, **overrides: Any) -> Services:
    """Services as a separate scheduler process builds them: its own Slack clients and
    threads, on the running app's database and clock. Close them when done. ``overrides``
    change settings, e.g. ``slack_timeout_seconds=0.5``."""
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret="s",
        slack_api_url=rapport.fake.api_url,
        **overrides,
    )
    return create_services(settings, rapport.db, rapport.clock)


def run_as_scheduler(rapport, job: Callable[..., T], *args: Any) -> T:
    """``job(services, *args)`` once, as a scheduler process would run it: with services of
    its own (``scheduler_services``), closed afterwards."""
    with closing(scheduler_services(rapport)) as services:
        return job(services, *args)


def make_relationship(
    db: Database,
    clock: FakeClock,
    name: str = "Acme ⇄ Stellar",
    *,
    creator: str = "UALICE",
    client_members: tuple[str, ...] = ("UCARL",),
    provider_owners: tuple[str, ...] = ("UPAT",),
    provider_members: tuple[str, ...] = ("UPRIYA",),
    channels: tuple[str, ...] = (),
    alerts: str | None = None,
    team: str = TEAM_ID,
) -> int:
    draft = RelationshipDraft(
        name=name,
        client_org="Acme",
        provider_org="Stellar",
        creator_side=Side.CLIENT,
        client_members=client_members,
        provider_owners=provider_owners,
        provider_members=provider_members,
        watched_channels=channels,
        alerts_channel=alerts,
    )
    with db.transaction() as session:
        return create_relationship(session, team, creator, draft, clock.now()).id
