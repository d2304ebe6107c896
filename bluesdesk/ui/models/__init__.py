"""The Models pane."""
