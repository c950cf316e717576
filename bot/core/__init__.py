"""Shared plumbing that knows no feature: database, clock, settings, cadences, figures."""
