"""Draw the README's example health chart: ``python docs/chart_example.py``.

A made-up relationship's last 12 weeks (fixed figures, so the picture only changes when the
drawing does), drawn exactly as Rapport draws it for Slack, into
``docs/images/health-index-chart.png``.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from bot.health.charts import WeeklyPoint, index_chart

FIRST_WEEK = date(2026, 1, 5)
# A good start, a slide after go-live (a week without data while nobody looked), then a
# recovery once check-ins were back.
INDEX = (78, 81, 76, 71, 66, None, 58, 52, 55, 61, 67, 72)
OUT = Path(__file__).resolve().parent / "images" / "health-index-chart.png"


def main() -> None:
    points = [WeeklyPoint(FIRST_WEEK + timedelta(weeks=n), value) for n, value in enumerate(INDEX)]
    chart = index_chart(points)
    OUT.write_bytes(chart.render_png())
    print(f"{OUT.name}: {chart.alt_text()}")


if __name__ == "__main__":
    main()
