"""PostgreSQL roles: an owner that holds the schema and an application role that only reads
and writes rows (21 CFR 11.10(d), Annex 11 §12).

On PostgreSQL the append-only triggers stop the application's own connection only if that
connection can't switch them off: a superuser can ``SET session_replication_role = replica``
(no trigger fires), and a table's owner can ``ALTER TABLE … DISABLE TRIGGER`` or drop it. So
the application connects as a role that is neither: ``pharmaqms_app`` has SELECT and INSERT
everywhere, UPDATE only where records change (never on the append-only tables), DELETE only on
the rate-limit windows it prunes (``PRUNED_TABLES``, no GxP data) and nowhere else, and no
TRUNCATE or DDL at all. Migrations run as ``pharmaqms_owner``, which owns the tables and is
no superuser either. ``pharmaqms init --create-roles``, run once with a superuser's URL,
creates both and hands everything over (docs/security.md has the SQL it runs).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

OWNER_ROLE = "pharmaqms_owner"
APP_ROLE = "pharmaqms_app"
_ROLE_OPTIONS = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


@dataclass(frozen=True)
class Roles:
    owner: str = OWNER_ROLE
    app: str = APP_ROLE


def _ident(conn: Connection, name: str) -> str:
    quoted: str = conn.execute(text("SELECT quote_ident(:name)"), {"name": name}).scalar_one()
    return quoted


def _create_role(conn: Connection, name: str) -> None:
    # Roles belong to the cluster, so several databases (and parallel test runs) share them:
    # create once, tolerating a concurrent creator, and alter only a role that has rights it
    # must not have (two concurrent ALTER ROLEs fail with "tuple concurrently updated").
    role = _ident(conn, name)
    found = conn.execute(
        text(
            "SELECT rolsuper, rolreplication, rolbypassrls, rolcreatedb, rolcreaterole, "
            "rolcanlogin FROM pg_roles WHERE rolname = :n"
        ),
        {"n": name},
    ).one_or_none()
    if found is None:
        conn.execute(
            text(
                "DO $$ BEGIN "
                f"CREATE ROLE {role} {_ROLE_OPTIONS}; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )
    elif tuple(found) != (False, False, False, False, False, True):
        conn.execute(text(f"ALTER ROLE {role} {_ROLE_OPTIONS}"))


def append_only_tables(conn: Connection) -> set[str]:
    """Tables the migrations made append-only (they carry the trigger)."""
    return set(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE '%\\_append\\_only' AND NOT t.tgisinternal"
            )
        ).scalars()
    )


# Operational tables (not GxP) whose rows the application itself deletes once they no longer
# count: the public pages' rate-limit windows. Nothing else is ever deleted by the app role.
PRUNED_TABLES: frozenset[str] = frozenset({"rate_limit_windows"})


def grant_app_privileges(conn: Connection, app_role: str = APP_ROLE) -> None:
    """The application role's rights on every table as the schema now stands. Run after each
    migration: a new table gets its rights here, by kind (append-only or not)."""
    app = _ident(conn, app_role)
    frozen = append_only_tables(conn)
    tables = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ).scalars()
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {app}"))
    for table in tables:
        name = _ident(conn, table)
        conn.execute(text(f"REVOKE ALL ON TABLE {name} FROM {app}"))
        if table == "alembic_version":
            rights = "SELECT"
        elif table in frozen:
            rights = "SELECT, INSERT"
        elif table in PRUNED_TABLES:
            rights = "SELECT, INSERT, UPDATE, DELETE"
        else:
            rights = "SELECT, INSERT, UPDATE"
        conn.execute(text(f"GRANT {rights} ON TABLE {name} TO {app}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}"))
    if conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = 'procrastinate'")).scalar():
        # The job library's queue (migration 0020_kernel_jobs): workers register and
        # unregister, jobs are taken, finished and pruned.
        conn.execute(text(f"GRANT USAGE ON SCHEMA procrastinate TO {app}"))
        conn.execute(
            text(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA procrastinate "
                f"TO {app}"
            )
        )
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA procrastinate TO {app}"))


def role_exists(conn: Connection, name: str) -> bool:
    return bool(
        conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).scalar()
    )


def create_roles(superuser: Engine, roles: Roles = Roles()) -> None:
    """Create the owner and application roles and hand the database over to the owner. Needs
    a superuser's connection to the (migrated) database."""
    with superuser.begin() as conn:
        _create_role(conn, roles.owner)
        _create_role(conn, roles.app)
        owner = _ident(conn, roles.owner)
        database = conn.execute(text("SELECT current_database()")).scalar_one()
        conn.execute(text(f"ALTER DATABASE {_ident(conn, database)} OWNER TO {owner}"))
        conn.execute(text(f"ALTER SCHEMA public OWNER TO {owner}"))
        conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        for table in conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars():
            conn.execute(text(f"ALTER TABLE {_ident(conn, table)} OWNER TO {owner}"))
        for function in conn.execute(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' AND p.proname LIKE 'pharmaqms\\_%'"
            )
        ).scalars():
            conn.execute(text(f"ALTER FUNCTION {function} OWNER TO {owner}"))
        conn.execute(text(f"REVOKE ALL ON DATABASE {_ident(conn, database)} FROM PUBLIC"))
        conn.execute(
            text(f"GRANT CONNECT ON DATABASE {_ident(conn, database)} TO {_ident(conn, roles.app)}")
        )
        grant_app_privileges(conn, roles.app)
