"""Privacy: export and forget-me."""
