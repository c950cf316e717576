"""Rapport: keeps the informal client–provider relationship alive, in Slack."""
