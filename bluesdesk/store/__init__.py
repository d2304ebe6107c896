"""Local persistence in one SQLite file: conversations, media records, the model cache."""

from bluesdesk.store.conversations import (
    Conversation,
    ConversationStore,
    Preset,
    SearchHit,
    StoredMessage,
)
from bluesdesk.store.db import Database
from bluesdesk.store.model_cache import CachedModels, ModelCache

__all__ = [
    "CachedModels",
    "Conversation",
    "ConversationStore",
    "Database",
    "ModelCache",
    "Preset",
    "SearchHit",
    "StoredMessage",
]
