"""Serve the application with gunicorn, shutting down gracefully on SIGTERM and SIGINT.

This process is gunicorn's master: it binds 0.0.0.0:PORT and supervises one worker process
that serves requests on a pool of threads. The service scales out by running more processes
(replicas), not more workers per process, which keeps each process's /metrics complete.

On SIGTERM or SIGINT (which gunicorn alone would treat as "stop now") the master stops
listening and signals the worker, which fails readiness at once, finishes the requests in
flight, and exits. The master waits for it for up to gunicorn's graceful timeout, a second
less than SHUTDOWN_TIMEOUT, then exits 0.
"""

import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.workers.base import Worker
from gunicorn.workers.gthread import ThreadWorker

from .app import begin_draining, create_app, service_state
from .config import Settings
from .logs import adopt_loggers

# Requests served at once by the worker process.
THREADS = 8
# Seconds an idle keep-alive connection stays open: longer than the load balancer's idle
# timeout (60 s on the ALB), so that the balancer, not the service, closes idle connections.
# The gthread worker keeps connections alive; gunicorn's sync worker would not.
KEEP_ALIVE_TIMEOUT = 75
# Seconds of SHUTDOWN_TIMEOUT kept for what follows the drain: stopping the worker, exiting.
EXIT_MARGIN = 1
# The worker's heartbeat file, in memory where the system has one (and the root filesystem
# may be read-only).
SHARED_MEMORY = Path("/dev/shm")  # noqa: S108 - not a temporary file: the heartbeat's directory


class JsonLogger(Logger):
    """gunicorn's logger without handlers of its own: records reach the JSON handler on stdout."""

    def setup(self, cfg: Config) -> None:
        """Apply gunicorn's log settings, then hand its loggers over to the root logger."""
        super().setup(cfg)
        adopt_loggers(self.error_log.name, self.access_log.name)


class GracefulArbiter(Arbiter):
    """gunicorn's master process, stopping gracefully on SIGINT as it does on SIGTERM."""

    def handle_int(self) -> None:
        """Stop gracefully: let the worker finish the requests in flight."""
        self.handle_term()


class GracefulWorker(ThreadWorker):
    """gunicorn's threaded worker, failing readiness as soon as SIGTERM or SIGINT arrives.

    When it stops accepting, it first accepts the connections already waiting in the listen
    backlog (clients that connected before SIGTERM expect an answer), then closes the listening
    socket so that later clients are refused at once instead of reset after sending a request.
    """

    def init_signals(self) -> None:
        """Install gunicorn's signal handlers, with SIGINT as graceful as SIGTERM."""
        super().init_signals()
        signal.signal(signal.SIGINT, self.handle_exit)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Begin the graceful shutdown: readiness first, then gunicorn's drain."""
        app = getattr(self, "wsgi", None)
        if isinstance(app, Flask):
            begin_draining(app)
        super().handle_exit(sig, frame)

    def _cap_keepalive(self, deadline: float) -> None:  # noqa: ARG002 - gunicorn's signature
        """When stopping, close kept-alive idle connections at once rather than by `deadline`.

        gunicorn lets them linger for two seconds; a load balancer that reuses one meanwhile gets
        `Connection: close`, but clients that hold idle connections should see them closed now.
        """
        super()._cap_keepalive(time.monotonic())

    def set_accept_enabled(self, enabled: bool) -> None:  # noqa: FBT001 - gunicorn's signature
        """Start or stop accepting connections; when stopping for good, drain the backlog."""
        if enabled or self.alive:
            super().set_accept_enabled(enabled)
            return
        for listener in self.sockets:
            while True:
                accepted = self.nr_conns
                self.accept(listener)
                if self.nr_conns == accepted:
                    break
        super().set_accept_enabled(enabled)
        for listener in self.sockets:
            listener.close()


def _worker_exit(_arbiter: Arbiter, worker: Worker) -> None:
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        service_state(app).close()


class Server(BaseApplication):
    """gunicorn configured from the service's settings, with no command line or config file."""

    def __init__(
        self, settings: Settings, factory: Callable[[Settings], Flask] = create_app
    ) -> None:
        """Serve the application that `factory` builds from `settings`, in the worker."""
        self.settings = settings
        self.factory = factory
        super().__init__()

    def load_config(self) -> None:
        """Set gunicorn's options."""
        options: dict[str, Any] = {
            "bind": [f"0.0.0.0:{self.settings.port}"],
            "workers": 1,
            "worker_class": GracefulWorker,
            "threads": THREADS,
            "keepalive": KEEP_ALIVE_TIMEOUT,
            "graceful_timeout": max(self.settings.shutdown_timeout - EXIT_MARGIN, 0),
            "logger_class": JsonLogger,
            "loglevel": logging.getLevelName(self.settings.log_level).lower(),
            "accesslog": None,  # the application writes access lines, with request ids
            "control_socket_disable": True,  # no local state: nothing to write on disk
            "worker_tmp_dir": str(SHARED_MEMORY) if SHARED_MEMORY.is_dir() else None,
            "worker_exit": _worker_exit,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the application, in the worker process."""
        return self.factory(self.settings)

    def run(self) -> None:
        """Run the master process until it has stopped."""
        GracefulArbiter(self).run()


def serve(settings: Settings, factory: Callable[[Settings], Flask] = create_app) -> None:
    """Serve HTTP on 0.0.0.0:PORT until a stop signal has been handled.

    `factory` builds the application from the settings (tests add routes of their own).
    """
    Server(settings, factory).run()
