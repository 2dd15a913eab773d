"""Test databases built by running the migrations, once per run and per backend, then copied
for each test (SQLite: a file copy; PostgreSQL: CREATE DATABASE … TEMPLATE). Tests marked
``postgres`` run on both backends. Service-backed tests skip when a service is missing, unless
PHARMAQMS_REQUIRE_SERVICES is set (CI), where they fail instead."""

from __future__ import annotations

import fcntl
import itertools
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

# Fast password hashing in tests: production parameters take ~0.5 s a hash.
os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")
# One key file per test run, outside every test database (as in production, outside the
# database): the templates are keyed with it, and so every copy of them. The xdist workers of
# one run share it, as they share the demo database built once (tests/demo_support.py).
os.environ.setdefault(
    "PHARMAQMS_KEY_FILE",
    str(
        (
            Path(tempfile.gettempdir()) / f"pharmaqms-keys-{os.environ['PYTEST_XDIST_TESTRUNUID']}"
            if os.environ.get("PYTEST_XDIST_TESTRUNUID")
            else Path(tempfile.mkdtemp(prefix="pharmaqms-keys-"))
        )
        / "test.key"
    ),
)

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.bootstrap import initialise
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.jobs import runner
from pharmaqms.kernel.keys import create_key_file, key_file_path
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work

REQUIRE_SERVICES = bool(os.environ.get("PHARMAQMS_REQUIRE_SERVICES"))
POSTGRES_URL = os.environ.get(
    "PHARMAQMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
from tests import pg_reuse  # noqa: E402
from tests.clause_marker import mark_clauses  # noqa: E402
from tests.support import PASSWORD, PEOPLE, app_for  # noqa: E402

reset_settings_cache()

# The longest files first. ``make test`` runs ``--dist loadfile --no-loadscope-reorder``: each
# file goes whole to one worker in collection order (xdist would otherwise order files by
# their number of tests, which put the one-test API fuzz, ~2.5 min, last: it ran alone at the
# end while the other worker idled).
LONGEST_FIRST = (
    "tests/web/test_api_fuzz.py",
    "tests/web/test_access_matrix.py",
    "tests/platform/test_epcis_store.py",
    "tests/cli/test_demo.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_clauses(items)
    rank = {path: place for place, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


# The key exists before any test builds an app: create_app refuses to start without it. The
# first worker writes it; the lock keeps the others from reading it half written.
key_file_path().parent.mkdir(parents=True, exist_ok=True)
with open(key_file_path().parent / "create.lock", "w") as _lock:
    fcntl.flock(_lock, fcntl.LOCK_EX)
    if not key_file_path().exists():
        create_key_file()
    fcntl.flock(_lock, fcntl.LOCK_UN)


def service_unavailable(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (PHARMAQMS_REQUIRE_SERVICES is set) but not available")
    pytest.skip(f"{what} not available")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _seed(database: Database) -> None:
    # Seeded at the real time, whichever test happens to ask for the template first: under a
    # test's frozen clock the people's passwords would carry that date and read as expired
    # to every later test.
    with clock.frozen_at(datetime.now(UTC)):
        _seed_people(database)


def _seed_people(database: Database) -> None:
    initialise(database, admin_password=PASSWORD, admin_full_name=PEOPLE["admin"][0])
    with unit_of_work(database) as session:
        # Provisioned as an installation is (``pharmaqms user add`` on the server): the system
        # account on the command line gives roles that sign without a second administrator.
        system = auth.system_actor(session, Channel.CLI)
        for username, (name, roles) in PEOPLE.items():
            if username == "admin":
                continue
            auth.add_user(
                session,
                actor=system,
                username=username,
                full_name=name,
                roles=roles,
                password=PASSWORD,
                must_change_password=False,
            )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    _seed(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    if not port_open("127.0.0.1", 5432):
        service_unavailable("PostgreSQL on 127.0.0.1:5432")
    admin_engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pqms_tpl_{os.getpid()}"
    with admin_engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    database = Database(url)
    _seed(database)
    database.dispose()
    # As in production: the tables belong to an owner role, and the tests' application
    # connections use a role that can neither own nor switch off the append-only triggers.
    from pharmaqms.kernel.pgroles import create_roles

    superuser = create_engine(url)
    create_roles(superuser)
    superuser.dispose()
    yield name
    drop_reusable(name)
    with admin_engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin_engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("postgres"):
            backends.append("postgresql")
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


# Databases a finished test gave back, per template and prefix, put back as the template
# left them when the next test takes one (tests/pg_reuse.py): CREATE DATABASE is the
# expensive part of a PostgreSQL test.
_reusable: dict[tuple[str, str], list[str]] = {}
_snapshots: dict[str, pg_reuse.Snapshot] = {}


def superuser_conninfo(database_name: str) -> str:
    """A test database by name, for psycopg as the superuser (``superuser_url`` below is the
    same for SQLAlchemy, from a Database)."""
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL).set(drivername="postgresql", database=database_name)
    return url.render_as_string(hide_password=False)


def _drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin_engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin_engine.dispose()


def _take_database(template: str, prefix: str) -> str:
    from sqlalchemy import create_engine, text

    free = _reusable.setdefault((template, prefix), [])
    while free:
        name = free.pop()
        try:
            if pg_reuse.reset(superuser_conninfo(name), name, _snapshots[template]):
                return name
        except Exception:
            _drop_database(name)  # a reset that broke leaves nothing behind, and says so
            raise
        _drop_database(name)  # its schema changed: not to be used again
    name = f"{prefix}_{os.getpid()}_{next(_counter)}"
    admin_engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    admin_engine.dispose()
    if template not in _snapshots:
        # Taken from a fresh copy, not the template: a copy is what a reset is compared to.
        try:
            _snapshots[template] = pg_reuse.snapshot(superuser_conninfo(name))
        except Exception:
            _drop_database(name)
            raise
    return name


def drop_reusable(template: str) -> None:
    for (used_template, _), names in _reusable.items():
        if used_template == template:
            while names:
                _drop_database(names.pop())


def postgres_copy(template: str, prefix: str = "pqms_t") -> Iterator[Database]:
    """A PostgreSQL database of its own as the migrated template left it, for the
    application role, set as the process default; given back for reuse afterwards. For a
    fixture to ``yield from``."""
    name = _take_database(template, prefix)
    database = Database(app_url(name))
    set_database(database)
    try:
        yield database
    finally:
        set_database(None)
        database.dispose()
        # The next test that takes this database gets it reset, its connections terminated:
        # the job runner's pool for this URL must go with them.
        runner.unbind(database.url)
        _reusable[(template, prefix)].append(name)


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, seeded database of its own for this test, set as the process default."""
    if backend == "postgresql":
        yield from postgres_copy(request.getfixturevalue("postgres_template"))
    else:
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "pharmaqms.db"
        shutil.copyfile(template, path)
        database = Database(f"sqlite:///{path}")
        set_database(database)
        yield database
        set_database(None)
        database.dispose()


def app_url(database_name: str) -> str:
    """The URL of a test database for the application role (kernel/pgroles.py)."""
    from sqlalchemy.engine import make_url

    from pharmaqms.kernel.pgroles import APP_ROLE

    url = make_url(POSTGRES_URL).set(username=APP_ROLE, database=database_name)
    return url.render_as_string(hide_password=False)


def superuser_url(database: Database) -> str:
    """The same database for someone with every right on it: the tamperer of the tamper
    tests (on SQLite, whoever can write the file)."""
    from sqlalchemy.engine import make_url

    if database.dialect != "postgresql":
        return database.url
    name = make_url(database.url).database
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@dataclass
class People:
    database: Database

    def actor(self, username: str, channel: Channel = Channel.API) -> Actor:
        with unit_of_work(self.database, write=False) as session:
            user = auth.user_by_username(session, username)
            assert user is not None, username
            return auth.actor_for(session, user, channel)

    def __getattr__(self, username: str) -> Actor:
        if username.startswith("_"):
            raise AttributeError(username)
        return self.actor(username)


@pytest.fixture
def people(db: Database) -> People:
    return People(db)


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    with clock.frozen_at(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) as c:
        yield c


@pytest.fixture
def app(db: Database):  # type: ignore[no-untyped-def]
    return app_for(db)


class Api:
    """An HTTP client for the API that logs in as one of the test people."""

    def __init__(self, app, username: str | None = None) -> None:  # type: ignore[no-untyped-def]
        from fastapi.testclient import TestClient

        self.client = TestClient(app, raise_server_exceptions=True)
        self.headers: dict[str, str] = {}
        if username:
            self.login(username)

    def login(self, username: str, password: str = PASSWORD) -> None:
        response = self.client.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        self.headers = {"authorization": f"Bearer {response.json()['token']}"}

    def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(url, headers=self.headers, **kw)

    def patch(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.patch(url, headers=self.headers, **kw)


@pytest.fixture
def api(app):  # type: ignore[no-untyped-def]
    """``api("qa")`` → a client logged in as qa."""

    def make(username: str | None = None) -> Api:
        return Api(app, username)

    return make


# From docs/recipes: without the background-networking flags Chromium tries outside hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for path in ("/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if os.path.exists(path):
            return path
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the whole run, shared by every browser test; each test opens
    its own context (cookies). One fixture for all: a second Playwright started in the same
    worker while the first runs is refused ("Sync API inside the asyncio loop")."""
    path = chromium_path()
    if path is None:
        service_unavailable("Chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("Playwright for Python")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
