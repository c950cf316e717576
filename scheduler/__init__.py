"""Recurring jobs: ``jobs`` decides what is due, the domain decides what to do."""
