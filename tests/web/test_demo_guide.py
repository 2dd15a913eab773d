"""The first page of a demonstration instance says what the demo holds and where each role
starts; each place it names is a page that role may open; a real installation shows none of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.support import PASSWORD

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.web.access.pages import PAGES
from pharmaqms.web.access.rules import Needs, SignedIn
from pharmaqms.web.views.demo_guide import STARTS


@pytest.fixture
def demo_instance(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PHARMAQMS_DEMO", "1")
    reset_settings_cache()
    yield
    monkeypatch.undo()
    reset_settings_cache()


def test_every_place_the_guide_names_is_a_page_its_role_may_open(db: Database) -> None:
    import pharmaqms.web.app  # noqa: F401 - every module's routes, roles and grants

    with unit_of_work(db) as session:
        system = auth.system_actor(session, Channel.CLI)
        for role in STARTS:
            user = auth.add_user(
                session,
                actor=system,
                username=f"guide-{role}".replace("_", "-"),
                full_name=f"Guide {role}",
                roles=[role],
                password=PASSWORD,
            )
            session.flush()
            actor = auth.actor_for(session, user, Channel.UI)
            for start in STARTS[role]:
                access = PAGES.get(("GET", start.url))
                assert access is not None, f"{start.url} is not a page"
                assert isinstance(access, Needs | SignedIn), (role, start.url, access)
                if isinstance(access, Needs):
                    assert access.allows(actor), f"{role} may not open {start.url}"


def test_a_demonstration_instance_greets_with_the_guide_and_a_real_one_does_not(
    ui: Any, demo_instance: None
) -> None:
    page = ui("qa").get("/").text
    assert 'data-testid="demo-guide"' in page
    assert "As qa, start with:" in page
    assert 'href="/compliance/outcomes"' in page


def test_a_real_installation_shows_no_demo_guide(ui: Any) -> None:
    assert 'data-testid="demo-guide"' not in ui("qa").get("/").text
