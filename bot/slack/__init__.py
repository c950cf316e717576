"""Talking to Slack: clients, exactly-once sending, channels, time zones, installations."""
