"""The whole schema in one place, for Alembic and the tests: every model module is imported.

A feature that adds tables in its own module imports it here.
"""

import bot.drift_models
import bot.pulse_models  # noqa: F401
from bot.models import Base

metadata = Base.metadata
