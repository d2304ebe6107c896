"""Logging to a rotating file in the data folder, with every record redacted on the way out.

The redaction filter sits on the handlers, not on a logger, because handler filters also see the
records that propagate up from library loggers (httpx logs request URLs, for example).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from bluesdesk.core.redact import redact_known

LOG_FILE = "bluesdesk.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
# Chatty libraries stay at WARNING unless --debug.
_NOISY = ("httpx", "httpcore", "asyncio", "keyring", "uvicorn", "uvicorn.access")


class RedactingFilter(logging.Filter):
    """Replaces a record's message and exception text with their redacted forms."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self._formatter = formatter

    def filter(self, record: logging.LogRecord) -> bool:
        # Formatting here (once) means the arguments can no longer smuggle a secret past us.
        record.msg = redact_known(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_known(record.exc_text)
        # Formatter.format rebuilds exc_text from exc_info only when exc_text is empty.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = redact_known(record.stack_info)
        return True


class _OurHandler:
    """Marker mixin: lets `setup_logging` find and replace the handlers it installed earlier."""


class _RotatingFile(_OurHandler, logging.handlers.RotatingFileHandler):
    pass


class _Stderr(_OurHandler, logging.StreamHandler):  # type: ignore[type-arg]
    pass


def shutdown_logging() -> None:
    """Remove and close the handlers `setup_logging` installed."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _OurHandler):
            root.removeHandler(handler)
            handler.close()


def setup_logging(log_dir: Path, *, debug: bool) -> str | None:
    """Log to ``log_dir/bluesdesk.log`` (1 MB × 3 backups); `debug` also logs DEBUG to stderr.

    A log folder that cannot be written (disk full, read-only, a file in its place) must not stop
    the app: logging then goes to stderr and the returned text says why, for the UI to show.
    Returns None when the log file is in use.
    """
    shutdown_logging()
    formatter = logging.Formatter(FORMAT)
    redactor = RedactingFilter(formatter)

    handlers: list[logging.Handler] = []
    problem: str | None = None
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(
            _RotatingFile(
                log_dir / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
            )
        )
    except OSError as exc:
        problem = redact_known(f"The log file in {log_dir} cannot be written ({exc}).")
    if debug or problem is not None:
        handlers.append(_Stderr(sys.stderr))
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redactor)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
    logging.captureWarnings(True)
    if problem is not None:
        logging.getLogger(__name__).warning("%s Logging to stderr instead.", problem)
    return problem
