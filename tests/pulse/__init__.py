"""Pulse rounds: commands, answers, schedules and results."""
