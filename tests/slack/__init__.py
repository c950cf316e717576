"""Talking to Slack: exactly-once sending, installs, tokens, escaping, SDK logging."""
