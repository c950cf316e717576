"""Shared test plumbing: the fake Slack Web API, signed requests, fixtures' helpers."""
