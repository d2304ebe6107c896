"""bluesdesk: a native desktop client for OpenAI-compatible AI gateways."""

__version__ = "0.1.0"
