"""How a figure reads wherever people see it (Slack, CSV exports, the command line).

Figures are rounded half up, as people round by hand: an average of 2.25 reads "2.3" and a
share of 12.5% reads "13%". Python's ``round()`` and ``format()`` round half to even ("2.2")
and work on the binary float, so every figure shown goes through here instead.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def half_up(value: float, places: int = 1) -> Decimal:
    """``value`` to ``places`` decimals, a half rounded away from zero (-2.25 → -2.3). The
    float is read to 9 decimals first, so that binary noise (``4.6 - 2.35`` is
    2.2499999999999996) rounds as the figure it stands for."""
    return Decimal(f"{value:.9f}").quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def decimal_text(value: float, places: int = 1, signed: bool = False) -> str:
    """``2.25`` → ``"2.3"``; with ``signed``, ``"+2.3"``."""
    return f"{half_up(value, places):{'+' if signed else ''}}"


def percent_text(share: float) -> str:
    """A share from 0 to 1 as a whole percentage: ``0.125`` → ``"13%"``."""
    return f"{half_up(share * 100, 0)}%"
