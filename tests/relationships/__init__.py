"""Relationships: setup, members, channels, /rapport and App Home."""
