"""Secrets (API keys, session tokens) in the OS keyring; never in files, never in plaintext."""

from bluesdesk.secrets.keystore import KeyStore, backend_usable

__all__ = ["KeyStore", "backend_usable"]
