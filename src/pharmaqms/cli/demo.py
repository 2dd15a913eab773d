"""``pharmaqms demo``: demo people, one per role, then every module's demo loader."""

from __future__ import annotations

from random import Random

from rich.progress import Progress
from sqlalchemy import select

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.demo import LOADERS, DemoContext
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import User
from pharmaqms.kernel.uow import unit_of_work

DEMO_PASSWORD = "Demo-Passw0rd!"  # noqa: S105 - printed on purpose: demo only

DEMO_PEOPLE: tuple[tuple[str, str, list[str]], ...] = (
    ("amelia.admin", "Amelia Hart", ["admin"]),
    ("quinn.qa", "Quinn Okafor", ["qa"]),
    ("rosa.qa", "Rosa Lindqvist", ["qa"]),
    ("chen.qc", "Chen Wei", ["qc_analyst"]),
    ("oscar.operator", "Oscar Mendes", ["production_operator"]),
    ("sofia.supervisor", "Sofia Rossi", ["production_supervisor"]),
    ("peter.qp", "Peter Novak", ["qualified_person"]),
    ("vera.pv", "Vera Ivanova", ["pv_officer"]),
    ("rahul.rd", "Rahul Mehta", ["rd_scientist"]),
    ("lena.logistics", "Lena Fischer", ["logistics"]),
    ("ian.auditor", "Ian Clarke", ["auditor"]),
)


def _import_module_loaders() -> None:
    import importlib

    for module in (
        "pharmaqms.cli.demo_platform",  # first: the others build on its master data
        "pharmaqms.quality.documents.demo",
        "pharmaqms.quality.training.demo",
        "pharmaqms.quality.deviations.demo",
        "pharmaqms.quality.capa.demo",
        "pharmaqms.quality.complaints.demo",
        "pharmaqms.quality.changes.demo",
        "pharmaqms.quality.risk.demo",
        "pharmaqms.cli.demo_supply_chain",
        "pharmaqms.lifecycle.production.materials.demo",
        "pharmaqms.lifecycle.production.qc.demo",
        "pharmaqms.lifecycle.production.nonconforming.demo",
        "pharmaqms.lifecycle.production.monitoring.demo",
        "pharmaqms.lifecycle.production.batchrecords.demo",  # its batches are not charted
        "pharmaqms.cli.demo_sensors",
    ):
        importlib.import_module(module)


def load_demo(
    database: Database, *, seed: int = 7, scale: float = 1.0, progress: Progress | None = None
) -> list[tuple[str, str, list[str]]]:
    """Returns the demo accounts created, or an empty list when the demo was loaded before."""
    from pharmaqms.kernel.bootstrap import initialise

    initialise(database)
    _import_module_loaders()
    with unit_of_work(database) as session:
        if session.scalars(select(User).where(User.username == DEMO_PEOPLE[0][0])).first():
            return []
        system = auth.system_actor(session, Channel.CLI)
        for username, name, roles in DEMO_PEOPLE:
            auth.add_user(
                session,
                actor=system,
                username=username,
                full_name=name,
                roles=roles,
                password=DEMO_PASSWORD,
                must_change_password=False,
                email=f"{username}@demo.pharmaqms.org",
            )
    with unit_of_work(database, write=False) as session:
        people = {
            username: auth.actor_for(session, auth.user_by_username(session, username), Channel.CLI)  # type: ignore[arg-type]
            for username, _n, _r in DEMO_PEOPLE
        }
    context = DemoContext(database, people, DEMO_PASSWORD, Random(seed), scale)  # noqa: S311
    task = progress.add_task("demo data", total=len(LOADERS)) if progress else None
    if progress:
        progress.start()
    try:
        for name, loader in LOADERS:
            if progress and task is not None:
                progress.update(task, description=f"demo: {name}")
            with unit_of_work(database) as session:
                loader(session, context)
            if progress and task is not None:
                progress.advance(task)
    finally:
        if progress:
            progress.stop()
    return list(DEMO_PEOPLE)
