"""Relationship health: one index from pulse, check-ins and tone, kept week by week."""
