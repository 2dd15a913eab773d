"""Where things stand: the figures a manager reads first — open and overdue records by
register, CAPA ageing, batches waiting for release, alarms open, the team's training — each a
link to the register filtered to exactly the records it counts.

A register figure is counted with the register's own query and filters (``count_matching``),
so the number on this page and the rows of the page it opens cannot disagree. The figures are
a table (``FIGURES``), read top to bottom; a figure is shown only to a reader who may open the
page it links to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.registers import Register, count_matching
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.distribution import board as coldchain_board
from pharmaqms.lifecycle.production.monitoring.views import ALERT_REGISTER
from pharmaqms.lifecycle.production.monitoring.views import BASE as MONITORING
from pharmaqms.lifecycle.production.release import service as release
from pharmaqms.quality.capa import views as capa_views
from pharmaqms.quality.changes import views as change_views
from pharmaqms.quality.complaints import views as complaint_views
from pharmaqms.quality.deviations import views as deviation_views
from pharmaqms.quality.training import curricula
from pharmaqms.quality.training.status import Standing, training_matrix

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Home", "Where things stand", "/standing", "records.read", 15))

# The roles whose home page opens with these figures (they answer for a department).
MANAGERS = ("admin", "qa", "qualified_person", "production_supervisor")


@dataclass(frozen=True)
class Figure:
    section: str
    label: str
    path: str
    params: dict[str, str]
    # A register figure counts the register's rows for ``params``; others count themselves.
    register: Register | None = None
    count: Callable[[Session], int] | None = None
    # Shown as a warning when above zero (overdue, unacknowledged past its deadline).
    alarming: bool = False
    permission: str = "records.read"

    @property
    def url(self) -> str:
        return self.path + ("?" + urlencode(self.params) if self.params else "")


@dataclass(frozen=True)
class Shown:
    figure: Figure
    value: int


def _register(
    section: str, label: str, path: str, register: Register, alarming: bool = False, **params: str
) -> Figure:
    return Figure(section, label, path, params, register=register, alarming=alarming)


def _cold_chain_open(session: Session) -> int:
    return coldchain_board.open_counts(session)[0]


def _cold_chain_unacknowledged(session: Session) -> int:
    return coldchain_board.open_counts(session)[1]


QUALITY = "Quality records"
AGEING = "CAPA ageing (open CAPAs by days open)"
OPERATIONS = "Production and distribution"

FIGURES: tuple[Figure, ...] = (
    _register(QUALITY, "Deviations open", "/deviations", deviation_views.REGISTER, open="1"),
    _register(
        QUALITY, "Deviations overdue", "/deviations", deviation_views.REGISTER, True, overdue="1"
    ),
    _register(QUALITY, "CAPA open", "/capas", capa_views.REGISTER, view="open"),
    _register(QUALITY, "CAPA overdue", "/capas", capa_views.REGISTER, True, view="overdue"),
    _register(QUALITY, "CAPA due this week", "/capas", capa_views.REGISTER, view="due_this_week"),
    _register(QUALITY, "Changes open", "/changes", change_views.REGISTER, open="1"),
    _register(
        QUALITY, "Changes, a task overdue", "/changes", change_views.REGISTER, True, overdue="1"
    ),
    _register(QUALITY, "Complaints open", "/complaints", complaint_views.REGISTER, open="1"),
    _register(
        QUALITY, "Complaints overdue", "/complaints", complaint_views.REGISTER, True, overdue="1"
    ),
    *(
        _register(
            AGEING,
            band.replace("over-", "> ") + " days",
            "/capas",
            capa_views.REGISTER,
            band == "over-180",
            age=band,
        )
        for band in capa_views.AGE_BANDS
    ),
    Figure(
        OPERATIONS,
        "Batches waiting for release",
        "/production/release",
        {},
        count=release.count_awaiting_release,
    ),
    # The alert register opens on the open alerts (its status filter's default).
    _register(OPERATIONS, "SPC alerts open", f"{MONITORING}/alerts", ALERT_REGISTER),
    Figure(
        OPERATIONS,
        "Cold-chain alarms open",
        "/distribution/alarms",
        {"status": "open"},
        count=_cold_chain_open,
    ),
    Figure(
        OPERATIONS,
        "Cold-chain alarms not yet acknowledged",
        "/distribution/alarms",
        {"status": "raised"},
        count=_cold_chain_unacknowledged,
        alarming=True,
    ),
)


@dataclass(frozen=True)
class TeamTraining:
    """One job role of the team: how many of its required trainings are current."""

    job_role_id: int
    name: str
    current: int
    required: int
    overdue: int

    @property
    def percent(self) -> float | None:
        return None if self.required == 0 else 100.0 * self.current / self.required

    @property
    def url(self) -> str:
        return f"/training/matrix?job_role_id={self.job_role_id}"


@dataclass(frozen=True)
class Overview:
    sections: dict[str, list[Shown]]
    training: list[TeamTraining]


def team_training(session: Session, actor: Actor) -> list[TeamTraining]:
    found = []
    for role in curricula.team_job_roles(session, actor):
        counts = training_matrix(session, job_role_id=role.id).counts()
        found.append(
            TeamTraining(
                role.id,
                role.name,
                counts[Standing.CURRENT.value],
                sum(counts.values()),
                counts[Standing.OVERDUE.value],
            )
        )
    return found


def figures_for(session: Session, actor: Actor) -> Overview:
    sections: dict[str, list[Shown]] = {}
    for figure in FIGURES:
        if not actor.can(figure.permission):
            continue
        if figure.register is not None:
            value = count_matching(session, actor, figure.register, figure.params)
        else:
            assert figure.count is not None
            value = figure.count(session)
        sections.setdefault(figure.section, []).append(Shown(figure, value))
    return Overview(sections, team_training(session, actor))


def shown_on_home(actor: Actor) -> bool:
    return actor.has_role(*MANAGERS)


@router.get("/standing", response_class=HTMLResponse)
def standing_page(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read where things stand")
    with transaction(request) as session:
        return render(request, "kernel/standing.html", {"standing": figures_for(session, actor)})
