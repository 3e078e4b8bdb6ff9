"""Serve the application with uvicorn, shutting down gracefully on SIGTERM and SIGINT."""

import asyncio
import contextlib
import selectors
import signal
import socket
from collections.abc import Callable, Iterator
from types import FrameType

import uvicorn
from fastapi import FastAPI

from .app import begin_draining, create_app
from .config import Settings

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Seconds an idle keep-alive connection stays open: longer than the load balancer's idle
# timeout (60 s on the ALB), so that the balancer, not the service, closes idle connections.
KEEP_ALIVE_TIMEOUT = 75
# Seconds of SHUTDOWN_TIMEOUT kept for what follows the drain: closing the pool, exiting.
EXIT_MARGIN = 1
# Once stopping, how often and how long to wait for requests that clients had already sent
# to be picked up: at most 100 times 5 ms.
SETTLE_INTERVAL = 0.005
SETTLE_CHECKS = 100


class GracefulServer(uvicorn.Server):
    """uvicorn's server, failing readiness as soon as a stop signal arrives.

    On SIGTERM or SIGINT it stops accepting connections, lets in-flight requests finish for up
    to `timeout_graceful_shutdown` seconds, then runs the application's shutdown and exits 0.
    A request counts as in flight once its client has sent it, even if the server has not read
    it yet: the connection may still wait in the listen backlog.
    """

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        """Serve `config`; `on_stop` runs when the first stop signal arrives."""
        super().__init__(config)
        self._on_stop = on_stop

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Begin the graceful shutdown."""
        self._on_stop()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle the stop signals while serving.

        uvicorn's own version re-raises the signal after shutting down, which turns a clean,
        drained shutdown into death by that signal (exit status 143). This one restores the
        previous handlers and lets the process exit 0.
        """
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop listening once the requests that clients already sent have been picked up."""
        for _ in range(SETTLE_CHECKS):
            if not self._requests_unread():
                break
            await asyncio.sleep(SETTLE_INTERVAL)
        await super().shutdown(sockets)

    def _requests_unread(self) -> bool:
        """Whether a connection waits to be accepted, or a request to be read.

        The event loop accepts and reads as soon as it gets to a socket: a readable socket is
        one it has not got to yet.
        """
        waiting = [sock for server in self.servers for sock in server.sockets]
        waiting.extend(
            connection.transport.get_extra_info("socket")
            for connection in self.server_state.connections
        )
        with selectors.DefaultSelector() as selector:
            for sock in waiting:
                if sock is not None and sock.fileno() >= 0:
                    selector.register(sock, selectors.EVENT_READ)
            return bool(selector.select(timeout=0))


def serve(settings: Settings, factory: Callable[[Settings], FastAPI] = create_app) -> None:
    """Serve HTTP on 0.0.0.0:PORT until a stop signal has been handled.

    `factory` builds the application from the settings (tests add routes of their own).
    """
    app = factory(settings)
    config = uvicorn.Config(
        app,
        host="0.0.0.0",  # noqa: S104 - port binding: reachable from outside the container
        port=settings.port,
        log_config=None,  # logging is already configured: JSON on stdout
        access_log=False,  # the application writes access lines, with request ids
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        timeout_graceful_shutdown=max(settings.shutdown_timeout - EXIT_MARGIN, 0),
    )
    GracefulServer(config, on_stop=lambda: begin_draining(app)).run()
