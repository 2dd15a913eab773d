"""``pharmaqms demo``: demo people, one per role, then every module's demo loader.

The demo loads only into a database that holds nothing but its installation (see
``foreign_record``): demo accounts with a published password, an administrator among them,
have no place beside real records. Run again on a demo database it changes nothing. The demo
accounts must change their password at their first login, unless the server runs as a
demonstration instance (PHARMAQMS_DEMO=1, as ``make run`` does)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from random import Random

from rich.progress import Progress
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.compliance import service as compliance_service
from pharmaqms.kernel import auth, user_time_zones
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.demo import LOADERS, DemoContext
from pharmaqms.kernel.errors import Conflict
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import AuditEntry, User
from pharmaqms.kernel.uow import unit_of_work

DEMO_PASSWORD = "Clean-Room-Demo-26!"  # noqa: S105 - printed on purpose: demo only

DEMO_PEOPLE: tuple[tuple[str, str, list[str]], ...] = (
    ("amelia.admin", "Amelia Hart", ["admin"]),
    ("quinn.qa", "Quinn Okafor", ["qa"]),
    ("rosa.qa", "Rosa Lindqvist", ["qa"]),
    ("chen.qc", "Chen Wei", ["qc_analyst"]),
    ("oscar.operator", "Oscar Mendes", ["production_operator"]),
    ("sofia.supervisor", "Sofia Rossi", ["production_supervisor"]),
    ("peter.qp", "Peter Novak", ["qualified_person"]),
    ("vera.pv", "Vera Ivanova", ["pv_officer"]),
    ("gita.qppv", "Gita Sharma", ["qppv"]),
    ("rahul.rd", "Rahul Mehta", ["rd_scientist"]),
    ("nadia.rd", "Nadia Haddad", ["rd_scientist"]),
    ("rene.ra", "René Dubois", ["regulatory_affairs"]),
    ("lena.logistics", "Lena Fischer", ["logistics"]),
    ("ian.auditor", "Ian Clarke", ["auditor"]),
)

# Where each demo person works: the company's sites in Germany, its R&D centre and contract
# QC laboratory in Shanghai, an auditor from London. Their pages, PDFs and e-mails show times
# in these zones, and what they type is read in them (the demo data is stored UTC).
DEMO_TIME_ZONES: dict[str, str] = {
    "chen.qc": "Asia/Shanghai",
    "rahul.rd": "Asia/Shanghai",
    "nadia.rd": "Asia/Shanghai",
    "ian.auditor": "Europe/London",
}
DEMO_SITE_ZONE = "Europe/Berlin"


def _import_module_loaders() -> None:
    import importlib

    for module in (
        "pharmaqms.cli.demo_platform",  # first: the others build on its master data
        # the job roles first: a document comes into force once a curriculum names it
        "pharmaqms.quality.training.demo",
        "pharmaqms.cli.demo_documents",  # the documents and their periodic reviews
        # before the batch records' demo: its QP must be nominated and assessed to release
        "pharmaqms.quality.training.competence.demo",
        "pharmaqms.quality.deviations.demo",
        "pharmaqms.quality.capa.demo",
        "pharmaqms.quality.complaints.demo",
        "pharmaqms.quality.changes.demo",
        "pharmaqms.cli.demo_risk",  # risk attaches to the changes and deviations above
        "pharmaqms.lifecycle.rnd.eln.demo",
        "pharmaqms.lifecycle.rnd.stability.demo",
        "pharmaqms.cli.demo_supply_chain",
        "pharmaqms.lifecycle.production.materials.demo",
        "pharmaqms.lifecycle.production.qc.demo",
        "pharmaqms.lifecycle.production.nonconforming.demo",
        "pharmaqms.lifecycle.production.monitoring.demo",
        "pharmaqms.lifecycle.production.release.demo",  # batches made and released; not charted
        "pharmaqms.lifecycle.rnd.gates.demo",  # on the platform's products
        "pharmaqms.lifecycle.rnd.transfer.demo",  # the tablet project's recipe, to production
        "pharmaqms.lifecycle.rnd.submissions.demo",  # the dossier sections of the tablet
        "pharmaqms.cli.demo_sensors",
        "pharmaqms.lifecycle.distribution.demo",  # after the sensor traces it judges
        "pharmaqms.lifecycle.distribution.inventory.demo",
        "pharmaqms.lifecycle.use.cases.demo",  # a year of case processing for the clocks
        "pharmaqms.lifecycle.use.signals.demo",  # it scans the cases the others made
        "pharmaqms.compliance.apqr.demo",  # it reviews what all the others made
        "pharmaqms.compliance.manuals.demo",  # the shipped manuals, in force (numbers last)
        # last: from its date an SOP's approval waits for production's sign-off
        "pharmaqms.compliance.configuration.demo",
    ):
        importlib.import_module(module)


# What the installation writes (``pharmaqms init``): the system account, the roles and the
# first administrator, all by the system account, plus the system's own bookkeeping of failed
# logins (counts, lockouts, alerts).
# The shipped regulations register is loaded by ``pharmaqms init`` as the system account: part
# of the installation (the same rows imported by a person are not); so are the first versions
# of the configuration, seeded from the code's built-in rules.
INSTALLATION_RECORD_TYPES = (
    "user",
    "role",
    "security_alert",
    "regulation",
    "regulation_requirement",
    "regulation_control",
    "config_version",
)


def foreign_record(session: Session) -> str | None:
    """Why this database is not one the demo may load into, or None.

    A new database holds only what ``pharmaqms init`` wrote: every audit entry is on a user,
    a role or a security alert, and is either the system account's or a person's own login or
    password change; and there is at most one person account (the first administrator).
    Anything else (a record of any kind, an account someone added, a role someone changed)
    was not written by the installation, so real work may live here."""
    entry = session.scalars(
        select(AuditEntry)
        .where(
            or_(
                AuditEntry.record_type.not_in(INSTALLATION_RECORD_TYPES),
                (AuditEntry.actor_username != auth.SYSTEM_USERNAME)
                & (
                    (AuditEntry.record_type != "user")
                    | AuditEntry.record_id.is_(None)
                    | (AuditEntry.record_id != AuditEntry.actor_id)
                ),
            )
        )
        .order_by(AuditEntry.seq)
        .limit(1)
    ).first()
    if entry is not None:
        return (
            f"{entry.record_type.replace('_', ' ')} {entry.record_label} ({entry.action} by "
            f"{entry.actor_username} on {entry.occurred_at:%Y-%m-%d %H:%M} UTC)"
        )
    people = session.scalar(
        select(func.count()).select_from(User).where(User.is_service_account.is_(False))
    )
    if (people or 0) > 1:
        return f"{people} person accounts (a new database has only its first administrator)"
    return None


@dataclass(frozen=True)
class LoaderTiming:
    """How long one step of the demo load took: processor time of this process (what the
    step costs, whatever else the machine runs) and elapsed time."""

    name: str
    cpu_seconds: float
    wall_seconds: float


def load_demo(
    database: Database,
    *,
    seed: int = 7,
    scale: float = 1.0,
    progress: Progress | None = None,
    timings: list[LoaderTiming] | None = None,
) -> list[tuple[str, str, list[str]]]:
    """Returns the demo accounts created, or an empty list when the demo was loaded before.
    Refuses (``Conflict``, nothing written) a database that holds anything but its
    installation. ``timings``, when given, receives one entry per step (the accounts, each
    module's loader, the closing step)."""
    from pharmaqms.kernel.bootstrap import initialise

    def timed(name: str, cpu: float, wall: float) -> None:
        if timings is not None:
            timings.append(
                LoaderTiming(name, time.process_time() - cpu, time.perf_counter() - wall)
            )

    initialise(database)
    _import_module_loaders()
    cpu, wall = time.process_time(), time.perf_counter()
    with unit_of_work(database) as session:
        if session.scalars(select(User).where(User.username == DEMO_PEOPLE[0][0])).first():
            return []
        found = foreign_record(session)
        if found is not None:
            raise Conflict(
                f"this database holds records the demo did not write, first: {found}; the "
                "demo loads only into a new database (pharmaqms init with a new "
                "PHARMAQMS_DATABASE_URL)"
            )
        system = auth.system_actor(session, Channel.CLI)
        for username, name, roles in DEMO_PEOPLE:
            auth.add_user(
                session,
                actor=system,
                username=username,
                full_name=name,
                roles=roles,
                password=DEMO_PASSWORD,
                # The loaders below sign as these people; the change is required at the end.
                must_change_password=False,
                email=f"{username}{auth.DEMO_EMAIL_DOMAIN}",
                # Its password is printed below: a light hash, so that the loaders' hundreds
                # of signatures don't each pay a full argon2 verification; the first login
                # upgrades it.
                published_password=True,
            )
            user = auth.user_by_username(session, username)
            assert user is not None
            user_time_zones.set_time_zone(
                session,
                actor=system,
                user_id=user.id,
                time_zone=DEMO_TIME_ZONES.get(username, DEMO_SITE_ZONE),
                reason="demo account: the time zone of the site the person works at",
            )
    with unit_of_work(database, write=False) as session:
        people = {
            username: auth.actor_for(session, auth.user_by_username(session, username), Channel.CLI)  # type: ignore[arg-type]
            for username, _n, _r in DEMO_PEOPLE
        }
    timed("accounts", cpu, wall)
    context = DemoContext(database, people, DEMO_PASSWORD, Random(seed), scale)  # noqa: S311
    task = progress.add_task("demo data", total=len(LOADERS)) if progress else None
    if progress:
        progress.start()
    try:
        for name, loader in LOADERS:
            if progress and task is not None:
                progress.update(task, description=f"demo: {name}")
            cpu, wall = time.process_time(), time.perf_counter()
            with unit_of_work(database) as session:
                loader(session, context)
            timed(name, cpu, wall)
            if progress and task is not None:
                progress.advance(task)
    finally:
        if progress:
            progress.stop()
    cpu, wall = time.process_time(), time.perf_counter()
    with unit_of_work(database) as session:
        system = auth.system_actor(session, Channel.CLI)
        # The shipped regulations register, if init did not load it already (idempotent).
        compliance_service.seed(session, actor=system)
        for username, _name, _roles in DEMO_PEOPLE:
            user = auth.user_by_username(session, username)
            assert user is not None
            auth.require_password_change(
                session,
                actor=system,
                user_id=user.id,
                reason="demo account: its password is published, so it is changed at the "
                "first login (unless the server runs with PHARMAQMS_DEMO=1)",
            )
    timed("closing (regulations, password change required)", cpu, wall)
    return list(DEMO_PEOPLE)
