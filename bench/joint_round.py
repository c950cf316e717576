"""A joint pulse round: one relationship spanning two workspaces, 2,000 people on each side.

Run from the repository root, on a scratch PostgreSQL database (it is wiped):

    python bench/joint_round.py postgresql+psycopg://…/scratch [--members 2000] [--latency 0.1]

Two workspaces install Rapport (each its own encrypted bot token). The client's owner
creates the relationship with ``--members`` people on each side, invites the provider's
owner, who joins from the provider's workspace (``bot.relationships.joint``): the provider's
people are from then on prompted through the provider's installation. A round is opened now,
so every prompt is due at once. The fake Slack (``bench/sending_scale.py``'s, in a process
of its own) answers after ``--latency`` seconds and allows each workspace 20 posts a second
(bursts of 20; 429 + ``Retry-After`` beyond). One sending process runs the real pulse tick
until nothing is left.

Prints, per workspace, when its last prompt went out against the floor its rate limit
allows (its members / 20 a second; target ≤ 1.2×), prompts lost and duplicated (both must
be 0), and 429s; beside the calibration loop (``bench/calibration.py``) run in this process.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.calibration import calibration_rate
from bench.sending_scale import SlackProcess, install, reset, settings, start_sender, team
from bot.core.clock import SystemClock
from bot.pulse.rounds import open_round_now
from bot.relationships.joint import create_invite, join
from bot.relationships.models import Side
from bot.relationships.setup import RelationshipDraft, create_relationship
from bot.slack.installations import InstallationStore
from tests.support.fresh_db import fresh_database

PER_SECOND = 20  # chat.postMessage a workspace allows (the fake's limit)
CLIENT, PROVIDER = team(0), team(1)


def seed(url: str, members: int) -> None:
    """Both installed, the relationship made in the client's workspace and joined from the
    provider's, a round open: ``members`` people a side (owners included)."""
    db = fresh_database(url)
    store = InstallationStore(settings(), db, SystemClock())
    for team_id in (CLIENT, PROVIDER):
        install(store, team_id)
    now = datetime.now(UTC)
    draft = RelationshipDraft(
        name="Client ⇄ Provider",
        client_org="Client",
        provider_org="Provider",
        creator_side=Side.CLIENT,
        client_members=tuple(f"UC{k:05d}" for k in range(members - 1)),
        provider_owners=("UPOWNER",),
        provider_members=tuple(f"UP{k:05d}" for k in range(members - 1)),
    )
    with db.transaction() as session:
        relationship = create_relationship(
            session, CLIENT, "UCOWNER", draft, now - timedelta(days=1)
        )
        invite = create_invite(session, relationship, CLIENT, "UCOWNER", "UPOWNER", now)
    with db.transaction() as session:
        joined = join(session, PROVIDER, "UPOWNER", invite.code, now)
        open_round_now(session, joined, "UCOWNER", now - timedelta(minutes=1))
    db.engine.dispose()


def run(url: str, members: int, latency: float) -> dict:
    reset(url)
    slack = SlackProcess(latency, 2)
    started = time.monotonic()
    start_sender(url, slack.api_url, "active").wait()
    report = slack.report()
    slack.popen.wait()
    keys = Counter(report["keys"])
    return {
        "last": {workspace: at - started for workspace, at in report["last"].items()},
        "lost": 2 * members - len(keys),
        "duplicates": sum(count - 1 for count in keys.values()),
        "limited": report["limited"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", help="a scratch PostgreSQL database (wiped)")
    parser.add_argument("--members", type=int, default=2000, help="people on each side")
    parser.add_argument("--latency", type=float, default=0.1, help="the fake's answer, s")
    args = parser.parse_args()
    rate = calibration_rate()
    print(f"calibration: {rate:,.0f} loops/CPU-second (bench/calibration.py)")
    seed(args.database_url, args.members)
    found = run(args.database_url, args.members, args.latency)
    floor = args.members / PER_SECOND
    print(
        f"joint round, {args.members:,} people a side, each side through its own workspace; "
        f"Slack answers in {args.latency * 1000:.0f} ms, {PER_SECOND} posts/s per workspace"
    )
    for workspace, name in ((CLIENT, "client"), (PROVIDER, "provider")):
        seconds = found["last"][workspace]
        print(
            f"  {name} workspace: last prompt after {seconds:.1f} s against a floor of "
            f"{floor:.0f} s: {seconds / floor:.2f}× (target ≤ 1.2×)"
        )
    print(f"  lost {found['lost']}, duplicates {found['duplicates']}, 429s {found['limited']}")


if __name__ == "__main__":
    main()
