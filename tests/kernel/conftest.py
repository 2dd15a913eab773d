"""Fixtures of the kernel tests (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from tests.conftest import POSTGRES_URL, port_open, service_unavailable


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own with nothing in it, not even the schema."""
    if not port_open("127.0.0.1", 5432):
        service_unavailable("PostgreSQL on 127.0.0.1:5432")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pqms_empty_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
