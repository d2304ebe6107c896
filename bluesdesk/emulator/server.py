"""Run the emulator in a background thread with its own event loop (demo mode, tests, the CLI)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn

from bluesdesk.emulator.app import build_app
from bluesdesk.emulator.config import EmulatorConfig
from bluesdesk.emulator.faults import DroppedConnectionError
from bluesdesk.emulator.relay import RelayRoute
from bluesdesk.emulator.state import EmulatorState, StreamOutcome

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class _QuietFaults(logging.Filter):
    """Drops uvicorn's error records for connections we broke on purpose (the `drop` fault)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        seen: set[int] = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            if isinstance(exc, DroppedConnectionError):
                return False
            if isinstance(exc, BaseExceptionGroup) and any(
                isinstance(e, DroppedConnectionError) for e in _leaves(exc)
            ):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            out.extend(_leaves(exc))
        else:
            out.append(exc)
    return out


_quiet = _QuietFaults()
logging.getLogger("uvicorn.error").addFilter(_quiet)


class EmulatorServer:
    """A real HTTP gateway emulator on 127.0.0.1, started and stopped from any thread."""

    def __init__(
        self, config: EmulatorConfig | None = None, *, extra_routes: list[RelayRoute] | None = None
    ) -> None:
        self.config = config or EmulatorConfig()
        self._extra_routes = extra_routes
        self.state: EmulatorState | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.base_url = ""

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> str:
        """Bind, start serving in a daemon thread and return the base URL once it accepts."""
        if self._thread is not None:
            return self.base_url
        # proto=IPPROTO_TCP matters: asyncio only disables Nagle on accepted sockets whose proto
        # says TCP; with proto 0 every response body waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.config.host, self.config.port))
        sock.listen(128)
        port = sock.getsockname()[1]
        self.base_url = f"http://{self.config.host}:{port}"
        state = EmulatorState(self.config)
        state.base_url = self.base_url
        self.state = state

        async def started() -> None:
            self._ready.set()

        app = build_app(state, extra_routes=self._extra_routes, on_startup=started)
        uv_config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(uv_config)
        self._server = server

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # noqa: BLE001  # surfaced to start(), not lost
                self._failure = exc
                self._ready.set()
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name=f"emulator:{port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT) or self._failure is not None:
            self.stop()
            raise RuntimeError(f"emulator failed to start: {self._failure!r}")
        return self.base_url

    def stop(self) -> None:
        """Stop serving (open streams are cut), join the thread and close the database."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(_STOP_TIMEOUT)
        self._server = None
        self._thread = None
        if self.state is not None:
            self.state.close()
            self.state = None
        self._ready.clear()

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- conveniences for tests -------------------------------------------------------------

    @property
    def relay_url(self) -> str:
        return self.base_url + self.config.relay_prefix

    def _state(self) -> EmulatorState:
        if self.state is None:
            raise RuntimeError("emulator is not running")
        return self.state

    def arm_fault(self, kind: str, count: int = 1, *, path_prefix: str = "", **params: Any) -> None:
        """Arm `kind` for the next `count` requests under `path_prefix` (POST /emulator/faults)."""
        self._state().faults.arm(kind, count, params, path_prefix)

    def reset_faults(self) -> None:
        """Clear armed faults, and the per-test state around them: rate-limit windows and request
        counters (so one test's traffic never throttles or skews the next)."""
        state = self._state()
        state.faults.clear()
        state.limits.clear()
        state.reset_counts()

    def request_count(self, path: str) -> int:
        """How many requests reached exactly `path` (faulted ones included)."""
        return self._state().request_count(path)

    def requests(self, path: str) -> list[Any]:
        """The bodies of the last relay requests to exactly `path` (parsed JSON), oldest first
        (as GET /emulator/requests?path=); cleared with the counters by `reset_faults`."""
        return self._state().recorded_requests(path)

    def stream_outcomes(self, path: str = "") -> list[StreamOutcome]:
        """How the newest event streams ended, oldest first (as GET /emulator/streams?path=);
        cleared with the counters by `reset_faults`."""
        return self._state().stream_outcomes(path)

    @property
    def open_streams(self) -> int:
        """Event streams being sent right now."""
        return self._state().open_streams
