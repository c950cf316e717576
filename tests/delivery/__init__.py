"""Delivery failures told once to owners."""
