"""Shared plumbing: cadences, figures, settings, the database and its outages."""
