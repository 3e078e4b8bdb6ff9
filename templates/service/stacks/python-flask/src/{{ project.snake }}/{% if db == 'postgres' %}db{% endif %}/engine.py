"""The PostgreSQL connection pool: SQLAlchemy over psycopg 3, and the readiness check."""

import logging
import threading
from concurrent.futures import Future

import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)


def create_engine(url: URL) -> Engine:
    """Create the process's connection pool; connections are opened on first use.

    Pooled connections are checked before use, so that the pool recovers by itself once a
    database that went away (a restart, a failover) is back.
    """
    return sqlalchemy.create_engine(url, pool_pre_ping=True)


class DatabaseCheck:
    """Whether the database answers `SELECT 1` within a deadline.

    The query runs on a daemon thread, so that a database that stops answering (a network
    partition, say) costs callers the deadline rather than a TCP timeout, and cannot hold up
    the process when it exits. Concurrent callers share the query in progress: checks never
    pile up, even while one hangs.
    """

    def __init__(self, engine: Engine, *, timeout: float) -> None:
        """Check `engine`'s database, waiting at most `timeout` seconds for an answer."""
        self._engine = engine
        self._timeout = timeout
        self._lock = threading.Lock()
        self._query: Future[None] | None = None

    def __call__(self) -> bool:
        """Run the check; True when the database answered in time."""
        with self._lock:
            if self._query is None or self._query.done():
                self._query = Future()
                threading.Thread(
                    target=self._select_one, args=(self._query,), name="database-check", daemon=True
                ).start()
            query = self._query
        try:
            query.result(timeout=self._timeout)
        except TimeoutError:
            logger.warning(
                "database is not ready", extra={"error": f"no answer within {self._timeout}s"}
            )
            return False
        except (SQLAlchemyError, OSError) as error:
            logger.warning("database is not ready", extra={"error": str(error)})
            return False
        return True

    def _select_one(self, query: Future[None]) -> None:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except BaseException as error:  # noqa: BLE001 - handed over to the waiting callers
            query.set_exception(error)
        else:
            query.set_result(None)
