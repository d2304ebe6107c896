"""Logging: a rotating file in the log folder, and no secret ever reaches it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluesdesk.core.redact import forget_secret, register_secret
from bluesdesk.logsetup import LOG_FILE, setup_logging, shutdown_logging

KEY = "sk-" + "Z9" * 24
TOKEN = "sessiontoken-3f9a7c21e8"  # not sk- shaped: only registration can catch it


@pytest.fixture
def logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    shutdown_logging()
    root.setLevel(level)
    logging.captureWarnings(False)
    for name in ("httpx", "httpcore", "asyncio", "keyring", "uvicorn", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_secrets_never_reach_the_file(tmp_path: Path, logging_restored: None) -> None:
    register_secret(TOKEN)
    try:
        setup_logging(tmp_path / "logs", debug=False)
        log = logging.getLogger("bluesdesk.test")
        log.info("calling with key %s", KEY)
        log.warning("session %s expired", TOKEN)
        log.info("header Authorization: Bearer %s", TOKEN)
        try:
            raise RuntimeError(f"gateway said: invalid key {KEY} for token {TOKEN}")
        except RuntimeError:
            log.exception("request failed")
        logging.getLogger("httpx").warning("GET https://x/v1/models?key=%s", KEY)
        _flush()
        text = (tmp_path / "logs" / LOG_FILE).read_text(encoding="utf-8")
    finally:
        forget_secret(TOKEN)
    assert KEY not in text
    assert TOKEN not in text
    assert "calling with key sk-[redacted]" in text
    assert "RuntimeError: gateway said: invalid key" in text  # the traceback is kept
    assert "request failed" in text
    assert "session [redacted] expired" in text


def test_debug_raises_the_level(tmp_path: Path, logging_restored: None) -> None:
    setup_logging(tmp_path, debug=False)
    logging.getLogger("bluesdesk.x").debug("hidden detail")
    logging.getLogger("httpx").info("hidden request line")
    setup_logging(tmp_path, debug=True)  # a second call replaces the handlers, no duplicates
    logging.getLogger("bluesdesk.x").debug("visible detail")
    logging.getLogger("httpx").info("visible request line")
    _flush()
    text = (tmp_path / LOG_FILE).read_text(encoding="utf-8")
    assert "hidden" not in text
    assert text.count("visible detail") == 1
    assert "visible request line" in text


def test_file_rotates(tmp_path: Path, logging_restored: None) -> None:
    setup_logging(tmp_path, debug=False)
    log = logging.getLogger("bluesdesk.bulk")
    line = "x" * 1000
    for _ in range(2500):  # ~2.6 MB: two rotations at 1 MB
        log.info(line)
    _flush()
    assert (tmp_path / f"{LOG_FILE}.1").exists()
    assert (tmp_path / f"{LOG_FILE}.2").exists()
    assert (tmp_path / LOG_FILE).stat().st_size <= 1_000_000
