"""Relationships: setup, members, watched channels, the /rapport commands and App Home."""
