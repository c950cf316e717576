"""The whole schema in one place, for Alembic and the tests: every model module is imported.

A feature that adds tables in its own ``models.py`` imports it here.
"""

import bot.checkins.models
import bot.drift.models
import bot.health.models
import bot.home.models
import bot.intros.models
import bot.pulse.models
import bot.relationships.models
import bot.slack.installation_models
import bot.slack.models
from bot.core.models import Base

FEATURE_MODELS = (
    bot.relationships.models,
    bot.slack.models,
    bot.checkins.models,
    bot.drift.models,
    bot.slack.installation_models,
    bot.pulse.models,
    bot.health.models,
    bot.home.models,
    bot.intros.models,
)
metadata = Base.metadata
