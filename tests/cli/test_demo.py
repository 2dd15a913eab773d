"""``pharmaqms demo`` loads only into a new database: accepted on a freshly initialised one,
a no-op on a demo database, refused (nothing written) on a database holding anything the
installation did not write. Its accounts must change their published password at the first
login, unless the server runs as a demonstration instance (PHARMAQMS_DEMO=1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.demo_support import demo_copy, demo_template, fresh_database
from tests.kernel.cli import run_cli
from tests.kernel.helpers import snapshot
from tests.support import PASSWORD, app_for

from pharmaqms.cli.demo import DEMO_PASSWORD, DEMO_PEOPLE, foreign_record, load_demo
from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.errors import Conflict, PasswordExpired
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import User
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents import service as documents


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Database]:
    database = fresh_database(tmp_path / "fresh.db")
    set_database(database)
    yield database
    set_database(None)
    database.dispose()


def admin_of(database: Database) -> auth.Actor:
    with unit_of_work(database, write=False) as s:
        user = auth.user_by_username(s, "admin")
        assert user is not None
        return auth.actor_for(s, user, Channel.UI)


def login(database: Database, username: str, password: str) -> User:
    with unit_of_work(database) as s:
        return auth.authenticate(s, username=username, password=password, channel=Channel.UI)


def person_accounts(database: Database) -> int:
    with unit_of_work(database, write=False) as s:
        query = select(func.count()).select_from(User).where(User.is_service_account.is_(False))
        return int(s.scalar(query) or 0)


def test_a_freshly_initialised_database_is_one_the_demo_may_load_into(fresh: Database) -> None:
    # the administrator logging in and changing their own password is still "new"
    login(fresh, "admin", PASSWORD)
    with unit_of_work(fresh) as s:
        auth.change_password(
            s, username="admin", old_password=PASSWORD, new_password="Quality-First-2026!"
        )
    with unit_of_work(fresh, write=False) as s:
        assert foreign_record(s) is None


def test_the_demo_loads_into_a_new_database_and_its_accounts_must_change_the_password(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = demo_copy(template, tmp_path / "demo.db")
    set_database(database)
    try:
        with unit_of_work(database, write=False) as s:
            flags = {
                u: (user.must_change_password, auth.is_demo_account(user))
                for u, _n, _r in DEMO_PEOPLE
                if (user := auth.user_by_username(s, u)) is not None
            }
        assert flags == {u: (True, True) for u, _n, _r in DEMO_PEOPLE}

        # served normally, the published password leads to the change form
        with pytest.raises(PasswordExpired):
            login(database, "quinn.qa", DEMO_PASSWORD)

        # served as a demonstration instance, it works
        monkeypatch.setenv("PHARMAQMS_DEMO", "1")
        reset_settings_cache()
        assert login(database, "quinn.qa", DEMO_PASSWORD).username == "quinn.qa"
        # and only for demo accounts: the administrator's own must-change still holds
        with unit_of_work(database) as s:
            admin = auth.user_by_username(s, "admin")
            assert admin is not None
            auth.require_password_change(
                s, actor=auth.system_actor(s), user_id=admin.id, reason="test"
            )
        with pytest.raises(PasswordExpired):
            login(database, "admin", PASSWORD)
    finally:
        monkeypatch.delenv("PHARMAQMS_DEMO", raising=False)
        reset_settings_cache()
        set_database(None)
        database.dispose()


def test_the_demo_run_again_on_a_demo_database_changes_nothing(
    template: Path, tmp_path: Path
) -> None:
    database = demo_copy(template, tmp_path / "again.db")
    set_database(database)
    try:
        before = snapshot(database)

        result = run_cli(database, "demo")

        assert result.exit_code == 0, result.output
        assert "Demo data is already loaded." in result.output
        assert snapshot(database) == before
    finally:
        set_database(None)
        database.dispose()


def test_a_database_with_a_real_record_is_refused_and_nothing_changes(fresh: Database) -> None:
    # given a real SOP draft written by the administrator
    with unit_of_work(fresh) as s:
        documents.create_document(
            s,
            actor=admin_of(fresh),
            doc_type="sop",
            title="Cleaning of the tablet press",
            body="1. Purpose",
            area="Production",
        )
    before = snapshot(fresh)

    with pytest.raises(Conflict) as refused:
        load_demo(fresh, scale=0.01)

    assert re.fullmatch(
        r"this database holds records the demo did not write, first: document SOP-2026-0001 "
        r"\(create by admin on \d{4}-\d\d-\d\d \d\d:\d\d UTC\); the demo loads only into a "
        r"new database \(pharmaqms init with a new PHARMAQMS_DATABASE_URL\)",
        refused.value.detail,
    )
    assert snapshot(fresh) == before
    assert person_accounts(fresh) == 1


def test_a_database_with_a_real_account_is_refused_on_the_command_line(fresh: Database) -> None:
    # given a person added through the command line (as the system account)
    added = run_cli(
        fresh,
        "user",
        "add",
        "hana",
        "--full-name",
        "Hana Hash",
        "--role",
        "qa",
        env={"PHARMAQMS_NEW_PASSWORD": "Temporary-Pass-42!"},
    )
    assert added.exit_code == 0, added.output
    before = snapshot(fresh)

    result = run_cli(fresh, "demo")

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: this database holds records the demo did not write, first: 2 person accounts "
        "(a new database has only its first administrator); the demo loads only into a new "
        "database (pharmaqms init with a new PHARMAQMS_DATABASE_URL)"
    ]
    assert snapshot(fresh) == before


HREF = re.compile(r'href="(/[^"#?]*)[^"]*"')


def test_every_task_and_home_page_link_of_every_demo_person_opens(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each demo person, logged in, follows every link on their home page (their inbox, the
    menu) and the link of one task of each record type they are asked to act on: none may
    answer 4xx or 5xx (a task about a QC result once linked to a page that did not exist)."""
    from fastapi.testclient import TestClient
    from tests.web.conftest import CSRF_INPUT

    from pharmaqms.kernel.http.pages import record_url_by_id
    from pharmaqms.kernel.models import Task

    database = demo_copy(template, tmp_path / "links.db")
    set_database(database)
    monkeypatch.setenv("PHARMAQMS_DEMO", "1")
    reset_settings_cache()
    broken: list[str] = []
    try:
        app = app_for(database)
        with unit_of_work(database, write=False) as s:
            task_links: dict[str, dict[str, str]] = {}
            for task in s.scalars(select(Task).where(Task.status == "open").order_by(Task.id)):
                links = task_links.setdefault(task.assignee_role or "", {})
                links.setdefault(
                    task.record_type, record_url_by_id(s, task.record_type, task.record_id)
                )
        assert task_links, "the demo opens tasks"
        for username, _name, roles in DEMO_PEOPLE:
            client = TestClient(app, follow_redirects=False)
            form = CSRF_INPUT.search(client.get("/login").text)
            assert form
            login_response = client.post(
                "/login",
                data={"username": username, "password": DEMO_PASSWORD, "csrf_token": form[1]},
            )
            assert login_response.status_code == 303, login_response.text
            home = client.get("/", follow_redirects=True)
            assert home.status_code == 200
            links = {m for m in HREF.findall(home.text) if m not in ("/logout",)}
            for role in roles:
                links |= set(task_links.get(role, {}).values())
            for link in sorted(links):
                status = client.get(link, follow_redirects=True).status_code
                if status >= 400:
                    broken.append(f"{username}: {link} → {status}")
    finally:
        monkeypatch.delenv("PHARMAQMS_DEMO", raising=False)
        reset_settings_cache()
        set_database(None)
        database.dispose()
    assert broken == []


def test_the_demo_s_sop_in_review_waits_for_production_s_sign_off_from_the_configuration(
    template: Path, tmp_path: Path
) -> None:
    from datetime import timedelta

    from pharmaqms.kernel import clock
    from pharmaqms.kernel.models import Task
    from pharmaqms.kernel.workflow import options
    from pharmaqms.quality.documents.models import DocumentVersion
    from pharmaqms.quality.documents.workflow import DOCUMENT_VERSION_WORKFLOW

    database = demo_copy(template, tmp_path / "demo.db")
    try:
        # (the demo's version comes into force seconds after it is approved)
        later = clock.now() + timedelta(minutes=1)
        with clock.frozen_at(later), unit_of_work(database, write=False) as s:
            [waiting] = s.scalars(
                select(DocumentVersion).where(DocumentVersion.status == "in_review")
            ).all()
            waiting_id = waiting.id
            people = {
                u: auth.actor_for(s, auth.user_by_username(s, u), Channel.UI)  # type: ignore[arg-type]
                for u in ("rosa.qa", "sofia.supervisor")
            }
            qa = {
                o.transition.name: o
                for o in options(s, DOCUMENT_VERSION_WORKFLOW, waiting, people["rosa.qa"])
            }
            production = {
                o.transition.name: o
                for o in options(s, DOCUMENT_VERSION_WORKFLOW, waiting, people["sofia.supervisor"])
            }
        assert not qa["approve"].allowed
        assert any(
            "waits for the sign-off 'Production concurs'" in r for r in qa["approve"].reasons
        )
        assert production["sign_off.production_concurrence"].allowed
        with unit_of_work(database, write=False) as s:
            task = s.scalars(
                select(Task).where(
                    Task.kind == "sign_off.production_concurrence", Task.status == "open"
                )
            ).one()
            assert (task.record_id, task.assignee_role) == (waiting_id, "production_supervisor")
    finally:
        database.dispose()


def test_the_demo_s_capas_in_implementation_offer_qa_the_site_step_back_to_plan_approval(
    template: Path, tmp_path: Path
) -> None:
    from datetime import timedelta

    from pharmaqms.kernel import clock
    from pharmaqms.kernel.configuration import store
    from pharmaqms.kernel.workflow import options
    from pharmaqms.quality.capa.models import Capa
    from pharmaqms.quality.capa.workflow import CAPA_WORKFLOW

    database = demo_copy(template, tmp_path / "demo.db")
    try:
        later = clock.now() + timedelta(minutes=1)
        with clock.frozen_at(later), unit_of_work(database, write=False) as s:
            assert store.in_force(s, "workflow.capa.transitions").version_no == 2
            capas = s.scalars(select(Capa).where(Capa.status == "implementation")).all()
            assert capas, "the demo has CAPAs in implementation"
            rosa, owner = (
                auth.actor_for(s, auth.user_by_username(s, u), Channel.UI)  # type: ignore[arg-type]
                for u in ("rosa.qa", "sofia.supervisor")
            )
            for capa in capas:
                qa = {o.transition.name: o for o in options(s, CAPA_WORKFLOW, capa, rosa)}
                theirs = {o.transition.name: o for o in options(s, CAPA_WORKFLOW, capa, owner)}
                assert qa["site_replan"].allowed, (capa.number, qa["site_replan"].reasons)
                assert not theirs["site_replan"].allowed
    finally:
        database.dispose()


def test_the_demo_leaves_a_tested_draft_to_approve_or_try_on_a_sandbox_copy(
    template: Path, tmp_path: Path
) -> None:
    from pharmaqms.compliance.configuration import sandbox_copy, sandbox_evidence
    from pharmaqms.kernel.configuration import store
    from pharmaqms.kernel.configuration.models import ConfigVersion

    database = demo_copy(template, tmp_path / "demo.db")
    copy_url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    try:
        with unit_of_work(database, write=False) as s:
            [draft] = s.scalars(
                select(ConfigVersion).where(ConfigVersion.status.in_(("draft", "tested")))
            ).all()
            assert (draft.key, draft.status) == ("workflow.document_version.tasks", "tested")
            assert any("'approve' tasks go to qa, due in 7 day(s)" in line
                       for line in draft.test_summary)  # fmt: skip
            number, key = draft.number, draft.key
            quinn = auth.actor_for(s, auth.user_by_username(s, "quinn.qa"))  # type: ignore[arg-type]
        # a copy of the demo database holds the draft in force, and reads back intact
        set_database(database)
        made = sandbox_copy.make_copy(database, actor=quinn, number=number, target_url=copy_url)
        copy = Database(copy_url)
        try:
            with unit_of_work(copy, write=False) as s:
                assert store.in_force(s, key).number == number
        finally:
            copy.dispose()
        evidence = sandbox_evidence.collect_evidence(
            database, actor=quinn, copy_id=made.id, copy_url=copy_url
        )
        assert evidence.trail_intact, evidence.findings
    finally:
        set_database(None)
        database.dispose()
