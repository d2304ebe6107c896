"""The Images pane."""
