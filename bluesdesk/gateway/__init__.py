"""The gateway client layer: HTTP, retries, rate limits and typed errors (httpx; no Qt).

Exports the names the services use; see `http.py` for the client and `relay.py` for chat/models.
"""

from __future__ import annotations

from bluesdesk.gateway.http import GatewayClient, GatewayPool
from bluesdesk.gateway.relay import complete_chat, list_models, stream_chat

__all__ = ["GatewayClient", "GatewayPool", "complete_chat", "list_models", "stream_chat"]
