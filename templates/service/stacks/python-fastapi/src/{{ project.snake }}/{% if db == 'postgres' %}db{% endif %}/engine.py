"""The PostgreSQL connection pool: SQLAlchemy's asyncio engine over psycopg 3."""

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(url: URL) -> AsyncEngine:
    """Create the process's connection pool; connections are opened on first use.

    Pooled connections are checked before use, so that the pool recovers by itself once a
    database that went away (a restart, a failover) is back.
    """
    return create_async_engine(url, pool_pre_ping=True)


async def select_one(engine: AsyncEngine) -> None:
    """Run `SELECT 1`, raising when the database cannot answer it."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
