"""A published password (the demo accounts') is hashed lightly, since its hash protects
nothing, and only for a demo account; the first login upgrades the hash to the installation's
argon2 parameters. Signing with the light hash works and keeps it light (signatures don't
rewrite the account)."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from tests.kernel.helpers import snapshot

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.passwords import PUBLISHED_PASSWORD_PARAMETERS, needs_rehash
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.uow import unit_of_work

PUBLISHED = "Clean-Room-Demo-26!"


def add(db: Database, username: str, email: str) -> None:
    with unit_of_work(db) as s:
        auth.add_user(
            s,
            actor=auth.system_actor(s, Channel.CLI),
            username=username,
            full_name="Quinn Okafor",
            roles=["qa"],
            password=PUBLISHED,
            must_change_password=False,
            email=email,
            published_password=True,
        )


def stored_hash(db: Database, username: str) -> str:
    with unit_of_work(db, write=False) as s:
        user = auth.user_by_username(s, username)
        assert user is not None and user.password_hash
        return user.password_hash


def test_a_demo_accounts_published_password_is_hashed_lightly_until_its_first_login(
    db: Database,
) -> None:
    add(db, "quinn.qa", f"quinn.qa{auth.DEMO_EMAIL_DOMAIN}")
    light = extract_parameters(stored_hash(db, "quinn.qa"))
    assert (light.time_cost, light.memory_cost, light.parallelism) == (
        PUBLISHED_PASSWORD_PARAMETERS
    )
    assert needs_rehash(stored_hash(db, "quinn.qa"))

    # Signing verifies the light hash and leaves it as it is.
    with unit_of_work(db) as s:
        user = auth.user_by_username(s, "quinn.qa")
        assert user is not None
        actor = auth.actor_for(s, user, Channel.UI)
        auth.verify_signer(s, actor=actor, password=PUBLISHED, meaning="approved")
    assert needs_rehash(stored_hash(db, "quinn.qa"))

    with unit_of_work(db) as s:
        auth.authenticate(s, username="quinn.qa", password=PUBLISHED, channel=Channel.UI)
    settings = get_settings()
    upgraded = extract_parameters(stored_hash(db, "quinn.qa"))
    assert (upgraded.time_cost, upgraded.memory_cost, upgraded.parallelism) == (
        settings.argon2_time_cost,
        settings.argon2_memory_cost,
        settings.argon2_parallelism,
    )
    assert not needs_rehash(stored_hash(db, "quinn.qa"))
    # The upgrade is part of the audited login (the hash itself masked), and the password
    # still opens the account.
    with unit_of_work(db, write=False) as s:
        login = s.query(AuditEntry).filter_by(record_type="user", action="login").all()
        assert any("password_hash" in entry.changes for entry in login)
        assert not any(stored_hash(db, "quinn.qa") in entry.changes for entry in login)
    with unit_of_work(db) as s:
        auth.authenticate(s, username="quinn.qa", password=PUBLISHED, channel=Channel.UI)


def test_a_real_account_is_never_hashed_lightly_and_nothing_is_written(db: Database) -> None:
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="only a demo account"):
        add(db, "quinn.okafor", "quinn.okafor@example.com")
    assert snapshot(db) == before
    with unit_of_work(db, write=False) as s:
        assert s.query(User).filter_by(username="quinn.okafor").first() is None
