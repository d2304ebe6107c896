"""Pure logic shared by every layer: models, stream decoding, retry policy, pricing, redaction.

Stdlib only (enforced by import-linter), so it is unit-tested fast and reused by the emulator.
"""
