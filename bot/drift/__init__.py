"""Drift: watching channel tone, scoring it against cue words and alerting owners."""
