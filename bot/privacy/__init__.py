"""Privacy: exporting and forgetting a person's data."""
