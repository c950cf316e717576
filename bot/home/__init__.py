"""App Home as a dashboard: a card per relationship, kept up to date as things change."""
