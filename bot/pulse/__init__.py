"""Pulse: short anonymous rounds of questions and their results."""
