"""Check-ins: recurring prompts to a relationship's people and their history."""
