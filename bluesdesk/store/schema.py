"""The database schema as a list of migrations; `PRAGMA user_version` says how many have run.

MIGRATIONS[i] takes a database from version i to i+1. Released migrations never change: a new
column or table is a new entry at the end.
"""

from __future__ import annotations

# Version 1: conversations with their messages and attachments, generated media, model cache.
_V1 = """
CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,            -- uuid4 hex
    title         TEXT NOT NULL DEFAULT '',
    profile_id    TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    pinned        INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE INDEX conversations_updated ON conversations (updated_at DESC);

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role              TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    text              TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL DEFAULT 'complete'
                      CHECK (state IN ('partial', 'complete', 'stopped', 'interrupted', 'error')),
    model             TEXT NOT NULL DEFAULT '',
    request_id        TEXT NOT NULL DEFAULT '',
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    error             TEXT NOT NULL DEFAULT '',
    created_at        REAL NOT NULL,
    updated_at        REAL NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE attachments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,                  -- image, audio, file
    name       TEXT NOT NULL DEFAULT '',
    mime       TEXT NOT NULL DEFAULT '',
    path       TEXT NOT NULL,                  -- relative to the media folder
    size       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE images (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id  TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL DEFAULT '',
    prompt      TEXT NOT NULL DEFAULT '',
    path        TEXT NOT NULL,
    width       INTEGER NOT NULL DEFAULT 0,
    height      INTEGER NOT NULL DEFAULT 0,
    params_json TEXT NOT NULL DEFAULT '{}',
    request_id  TEXT NOT NULL DEFAULT '',
    created_at  REAL NOT NULL
);

CREATE TABLE audio_clips (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id  TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL DEFAULT '',
    voice       TEXT NOT NULL DEFAULT '',
    input_text  TEXT NOT NULL DEFAULT '',
    path        TEXT NOT NULL,
    format      TEXT NOT NULL DEFAULT 'mp3',
    duration_s  REAL NOT NULL DEFAULT 0,
    request_id  TEXT NOT NULL DEFAULT '',
    created_at  REAL NOT NULL
);

CREATE TABLE model_cache (
    profile_id TEXT PRIMARY KEY,
    json       TEXT NOT NULL,                  -- the models list as the gateway sent it
    fetched_at REAL NOT NULL
);
"""

# Version 2: full-text search over message text. An external-content FTS5 table indexes
# messages.text without a second copy; triggers keep it in step, and 'rebuild' indexes the
# messages written before this version.
_V2 = """
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
"""

# Version 3: what the chat pane remembers. Per conversation its API style and parameters (JSON);
# per message a metadata JSON (stats, reasoning) and regenerate alternatives: every answer of one
# group carries the first answer's id in alt_group, and all but the chosen one are hidden.
_V3 = """
ALTER TABLE conversations ADD COLUMN api_style TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN params_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE messages ADD COLUMN meta_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE messages ADD COLUMN alt_group INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_pinned ON conversations (pinned DESC, updated_at DESC);
"""

# Favourite models get a table of their own (they were JSON lists in model_cache under
# "favourites:<profile id>"); those rows move here. Safe to run over a half-migrated file:
# IF NOT EXISTS, OR IGNORE, and a malformed old list is skipped rather than failing the upgrade.
_FAVOURITES = """
CREATE TABLE IF NOT EXISTS favourites (
    profile_id TEXT NOT NULL,
    model_id   TEXT NOT NULL,
    created_at REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (profile_id, model_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO favourites (profile_id, model_id, created_at)
SELECT substr(c.profile_id, 12), j.value, c.fetched_at
FROM model_cache AS c,
     json_each(CASE WHEN NOT json_valid(c.json) THEN '[]'
                    WHEN json_type(c.json) = 'array' THEN c.json
                    ELSE '[]' END) AS j
WHERE substr(c.profile_id, 1, 11) = 'favourites:' AND length(c.profile_id) > 11
  AND j.type = 'text' AND j.value <> '';
DELETE FROM model_cache WHERE substr(profile_id, 1, 11) = 'favourites:';
"""

# Chat presets: a named system prompt with parameters (the same JSON as conversations.params_json)
# that the user saves from the parameters drawer and applies to any conversation.
_CHAT_PRESETS = """
CREATE TABLE IF NOT EXISTS chat_presets (
    name          TEXT PRIMARY KEY,
    system_prompt TEXT NOT NULL DEFAULT '',
    params_json   TEXT NOT NULL DEFAULT '{}',
    updated_at    REAL NOT NULL
);
"""

# Prefix indexes for the search box: the last word typed is a prefix ("quer*"), and without an
# index FTS5 merges the doclists of every term it covers on each query — 30-80 ms for a common
# prefix over a million messages, against 0.3 ms with one (benchmarks/long_chat.py). The table is
# re-made with the index and rebuilt from `messages` (about 40 s per million messages, once).
_FTS_PREFIX = """
DROP TABLE IF EXISTS messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
"""

# An answer being streamed ("partial") is saved every 250 ms with its whole text, and each save
# re-indexed all of it (the old text out, the new in, with prefixes): 20-120 ms of the writer's
# time per save at 50,000 words, growing with the answer (benchmarks/stream_ui.py). Partial
# messages are now left out of the index and go in once they end (complete, stopped, error, or
# interrupted at the next start). Partial rows indexed under the old triggers are taken out.
_FTS_SKIPS_PARTIAL = """
DROP TRIGGER IF EXISTS messages_fts_insert;
DROP TRIGGER IF EXISTS messages_fts_delete;
DROP TRIGGER IF EXISTS messages_fts_update;
INSERT INTO messages_fts (messages_fts, rowid, text)
    SELECT 'delete', id, text FROM messages WHERE state = 'partial';
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.state <> 'partial' BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.state <> 'partial' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, state ON messages
WHEN old.state <> 'partial' OR new.state <> 'partial' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text)
        SELECT 'delete', old.id, old.text WHERE old.state <> 'partial';
    INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.state <> 'partial';
END;
"""

MIGRATIONS: tuple[str, ...] = (
    _V1,
    _V2,
    _V3,
    _FAVOURITES,
    _CHAT_PRESETS,
    _FTS_PREFIX,
    _FTS_SKIPS_PARTIAL,
)
LATEST = len(MIGRATIONS)
