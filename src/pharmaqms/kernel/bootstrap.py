"""Creating or migrating a database and seeding what the kernel needs to run: the system
account, the roles with their default permissions, and the first administrator."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.migrate import upgrade
from pharmaqms.kernel.models import Role, User
from pharmaqms.kernel.roles import DEFAULT_ROLES, READ_ONLY_ROLES
from pharmaqms.kernel.uow import unit_of_work


def _ensure_system_user(session: Session) -> None:
    if auth.user_by_username(session, auth.SYSTEM_USERNAME) is not None:
        return
    # The system account is the first row; it is written under a provisional identity because
    # nobody exists yet to create it.
    genesis = Actor(0, auth.SYSTEM_USERNAME, "pharmaqms (system)", frozenset(), frozenset({"*"}))
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
    with unit_of_work(database) as session:
        _ensure_system_user(session)
    with unit_of_work(database) as session:
        _sync_roles(session)
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
