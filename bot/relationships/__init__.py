"""Relationships: setup, members, watched channels and the /rapport commands."""
