"""Delivery failures: what Slack refused for good, told once to the relationship's owners."""
