"""What keeps answers anonymous: a per-round secret that links a person to their answers
only while the round is open."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.pulse.models import PulseRound

WIPED_SECRET = ""  # a closed round's secret (see forget_closed_round_secrets)


def respondent_token(secret: str, team_id: str, user_id: str) -> str:
    """Stands in for the person in answers: stable within a round, unlinkable across rounds
    without the round's secret, and never stored next to the user id."""
    return hmac.new(secret.encode(), f"{team_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def forget_closed_round_secrets(session: Session, now: datetime) -> int:
    """Wipe the secret of every round that has closed; returns how many were wiped.

    While a round is open its secret lets Rapport find a person's own answers (to change
    them, or to remind only those who haven't answered). Once it closes nothing may link a
    person to what they said: with the secret gone, HMAC(secret, team:user) can't be
    recomputed from ``pulse_recipients.user_id``, by Rapport or by anyone holding the
    database. Closed rounds take no answers, so the secret is never needed again.
    """
    return session.execute(
        update(PulseRound)
        .where(PulseRound.closes_at <= now, PulseRound.secret != WIPED_SECRET)
        .values(secret=WIPED_SECRET)
    ).rowcount
