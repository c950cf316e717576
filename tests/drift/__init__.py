"""Drift: message events, scoring, cue words, alerts and their commands."""
