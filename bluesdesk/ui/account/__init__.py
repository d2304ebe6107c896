"""The Account pane."""
