"""Creating or migrating a database and seeding what the kernel needs to run: the system
account, the roles with their default permissions, and the first administrator."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, auth
from pharmaqms.kernel.chain import key_the_chain, read_head
from pharmaqms.kernel.configuration.store import seed_builtins
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.keys import (
    KeyFileError,
    Keyring,
    create_key_file,
    ensure_purposes,
    key_file_path,
    load_keyring,
)
from pharmaqms.kernel.migrate import upgrade
from pharmaqms.kernel.models import Role, User
from pharmaqms.kernel.pgroles import APP_ROLE, OWNER_ROLE, grant_app_privileges, role_exists
from pharmaqms.kernel.roles import DEFAULT_ROLES, READ_ONLY_ROLES
from pharmaqms.kernel.uow import unit_of_work


def _grant_new_tables(database: Database) -> None:
    """After a migration run by the owner (or a superuser), the application role gets its
    rights on the tables it added (kernel/pgroles.py)."""
    with database.engine.begin() as conn:
        if not role_exists(conn, APP_ROLE):
            return  # an installation without separate roles
        may_grant = conn.execute(
            text("SELECT rolsuper OR rolname = :owner FROM pg_roles WHERE rolname = current_user"),
            {"owner": OWNER_ROLE},
        ).scalar()
        if may_grant:
            grant_app_privileges(conn)


def ensure_keyed(database: Database) -> Keyring:
    """The installation's key file, created for a new installation, and the chain keyed with
    it. A database whose trail is keyed never gets a new key: that would make its whole trail
    unverifiable, so a lost key file is an incident, not something init papers over."""
    path = key_file_path(database.url)
    with database.engine.connect() as conn:
        head = read_head(conn)
    if not path.exists():
        if head is not None and head.key_id is not None:
            raise KeyFileError(
                f"this database's audit trail is keyed with key {head.key_id}, and the key file "
                f"{path} is missing: restore it from its custody copy (a new key would leave "
                "the whole trail unverifiable)"
            )
        create_key_file(path)
    # A key file from an older version gets the keys newer modules need (the R&D keys).
    ensure_purposes(path)
    keyring = load_keyring(path)
    with unit_of_work(database) as session:
        keyed_now = key_the_chain(session.connection(), keyring)
        if keyed_now and head is not None and head.seq > 0:
            audit.record_event(
                session,
                actor=_installer(session),
                action="audit_trail_keyed",
                record_type="system",
                record_label="audit trail",
                details={"key_id": keyring.audit.id, "keyed_from": head.seq + 1},
                reason="entries from here on are linked with HMAC under the installation's key",
            )
    return keyring


def _installer(session: Session) -> Actor:
    """The system account; before it exists (it is the first row), a provisional identity
    for the installation itself, because nobody exists yet to act."""
    if auth.user_by_username(session, auth.SYSTEM_USERNAME) is not None:
        return auth.system_actor(session, Channel.SYSTEM)
    return Actor(0, auth.SYSTEM_USERNAME, "pharmaqms (system)", frozenset(), frozenset({"*"}))


def _ensure_system_user(session: Session) -> None:
    if auth.user_by_username(session, auth.SYSTEM_USERNAME) is not None:
        return
    genesis = _installer(session)
    with audit.changes(session, actor=genesis, reason="system account created at installation"):
        session.add(
            User(
                username=auth.SYSTEM_USERNAME,
                full_name="pharmaqms (system)",
                roles=[],
                is_active=True,
                is_service_account=True,
            )
        )


def _sync_roles(session: Session) -> None:
    system = auth.system_actor(session, Channel.SYSTEM)
    existing = {r.name: r for r in session.scalars(select(Role))}
    for name, (description, permissions) in sorted(DEFAULT_ROLES.items()):
        role = existing.get(name)
        if role is None:
            with audit.changes(session, actor=system, reason="default role installed"):
                session.add(
                    Role(
                        name=name,
                        description=description,
                        permissions=sorted(permissions),
                        read_only=name in READ_ONLY_ROLES,
                    )
                )
        else:
            missing = set(permissions) - set(role.permissions)
            if missing:
                with audit.changes(
                    session,
                    actor=system,
                    reason="permissions of a newly installed module: " + ", ".join(sorted(missing)),
                ):
                    role.permissions = sorted(set(role.permissions) | missing)


def initialise(
    database: Database,
    *,
    admin_username: str = "admin",
    admin_password: str | None = None,
    admin_full_name: str = "System Administrator",
) -> bool:
    """Migrate to the latest schema and seed. Returns True when an administrator was created.

    The caller has loaded every module (``pharmaqms.schema``), so that the roles get every
    module's permissions."""
    upgrade(database.engine)
    if database.dialect == "postgresql":
        _grant_new_tables(database)
    ensure_keyed(database)
    with unit_of_work(database) as session:
        _ensure_system_user(session)
    with unit_of_work(database) as session:
        _sync_roles(session)
    with unit_of_work(database) as session:
        # The code's built-in definitions become the first version of each configuration key.
        seed_builtins(session, actor=auth.system_actor(session, Channel.SYSTEM))
    with unit_of_work(database) as session:
        has_admin = any(
            "admin" in u.roles and not u.is_service_account for u in session.scalars(select(User))
        )
        if has_admin or admin_password is None:
            return False
        auth.add_user(
            session,
            actor=auth.system_actor(session, Channel.CLI),
            username=admin_username,
            full_name=admin_full_name,
            roles=["admin"],
            password=admin_password,
            must_change_password=False,
        )
        return True


def needs_admin(database: Database) -> bool:
    with unit_of_work(database, write=False) as session:
        return not any(
            "admin" in u.roles and not u.is_service_account for u in session.scalars(select(User))
        )
