"""The whole schema in one place, for Alembic and the tests: every model module is imported.

A feature that adds tables in its own module imports it here.
"""

import bot.checkin_models
import bot.drift_models
import bot.installation_models
import bot.pulse_models
from bot.models import Base

FEATURE_MODELS = (bot.checkin_models, bot.drift_models, bot.installation_models, bot.pulse_models)
metadata = Base.metadata
