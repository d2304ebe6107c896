"""Async services the UI calls (no Qt): each one owns one job and raises only BluesdeskError."""
