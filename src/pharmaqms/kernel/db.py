"""Database engine, session factory and the column types both SQLite and PostgreSQL share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import DateTime, Engine, MetaData, Text, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from pharmaqms.kernel.settings import get_settings

# A fixed naming convention makes migrations deterministic and lets Alembic's batch mode
# rebuild SQLite tables with the same constraint names.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back time-zone aware.

    SQLite has no time zone type and hands back naive values; PostgreSQL has timestamptz.
    A naive value on the way in is a programming error, not something to guess about.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: every timestamp must carry a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """JSON stored as text on both databases, so the bytes hashed are the bytes stored."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        from pharmaqms.kernel.canonical import canonical_json

        return None if value is None else canonical_json(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        import json

        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN oddly; we issue it ourselves so that
    # SAVEPOINTs work. A unit of work that will write takes the writer lock at BEGIN
    # (IMMEDIATE): two deferred transactions that both read and then write would otherwise
    # fail with "database is locked" instead of waiting their turn.
    if conn.get_execution_options().get("pharmaqms_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = url or get_settings().database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 15}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None
            _sqlite_pragmas(dbapi_connection, record)

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    settings = get_settings()
    kwargs.setdefault("pool_size", settings.db_pool_size)
    kwargs.setdefault("max_overflow", settings.db_max_overflow)
    kwargs.setdefault("pool_timeout", settings.db_pool_timeout_seconds)
    kwargs.setdefault("pool_recycle", settings.db_pool_recycle_seconds)
    kwargs.setdefault("connect_args", {"connect_timeout": settings.db_connect_timeout_seconds})
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """An engine and its session factory; one per process (tests make their own)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or get_settings().database_url
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(
            self.engine.execution_options(pharmaqms_write=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool = False) -> Session:
        session = self.write_sessions() if write else self.sessions()
        # Work that runs after the commit (delivery listeners) opens its units of work on the
        # database the delivery went to, not on whichever one the process holds as default.
        session.info[_DATABASE] = self
        return session

    def dispose(self) -> None:
        self.engine.dispose()


_database: Database | None = None
_DATABASE = "pharmaqms.database"


def database_of(session: Session) -> Database:
    """The database a session of ``Database.session`` belongs to (the default otherwise)."""
    found = session.info.get(_DATABASE)
    return found if isinstance(found, Database) else get_database()


def get_database() -> Database:
    global _database
    if _database is None:
        _database = Database()
    return _database


def current_database() -> Database | None:
    """The process's database if one is set or made already (never makes one)."""
    return _database


def set_database(database: Database | None) -> None:
    global _database
    _database = database


@contextmanager
def session_scope(database: Database | None = None, *, write: bool = False) -> Iterator[Session]:
    session = (database or get_database()).session(write=write)
    try:
        yield session
    finally:
        session.close()


_replica: Database | None = None


def replica_database() -> Database | None:
    """The read-only replica of ``PHARMAQMS_DATABASE_REPLICA_URL``, if one is configured."""
    global _replica
    url = get_settings().database_replica_url
    if not url:
        return None
    if _replica is None or _replica.url != url:
        if _replica is not None:
            _replica.dispose()
        _replica = Database(url)
    return _replica


@contextmanager
def replica_reads(session: Session) -> Iterator[Session]:
    """A session for the heavy reads of reports, exports and signal detection: on the
    read-only replica when one is configured, else ``session`` itself (the primary). A
    replica lags its primary by moments, and does not see ``session``'s own uncommitted
    changes: use it only for reads of what was committed before."""
    replica = replica_database()
    if replica is None:
        yield session
        return
    reads = replica.session()
    try:
        yield reads
    finally:
        reads.rollback()
        reads.close()
