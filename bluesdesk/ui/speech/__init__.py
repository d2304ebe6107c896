"""The Speech pane."""
