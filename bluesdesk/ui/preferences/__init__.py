"""The Settings pane: gateway profiles (and, later, other preferences)."""
