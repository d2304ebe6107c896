"""The Chat pane."""
