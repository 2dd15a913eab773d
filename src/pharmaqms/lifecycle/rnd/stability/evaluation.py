"""The study's shelf-life estimates: the Q1E evaluation (``q1e``) of each attribute at each
long-term condition, on the results recorded so far. Read-only: nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pharmaqms.lifecycle.rnd.stability import chart, service
from pharmaqms.lifecycle.rnd.stability.models import StabilityStudy
from pharmaqms.lifecycle.rnd.stability.protocol import condition_label
from pharmaqms.lifecycle.rnd.stability.q1e import (
    Observation,
    ShelfLife,
    ShelfLifeRefused,
    estimate_shelf_life,
)


@dataclass(frozen=True)
class Evaluation:
    attribute: str
    name: str
    unit: str
    condition: str
    observations: list[Observation]
    result: ShelfLife | None
    # Why there is no estimate yet (fewer than three time points, …), else None.
    refused: str | None
    svg: str


def observations_of(
    session: Session, study_id: int, attribute: str, condition: str
) -> list[Observation]:
    return [
        Observation(result.batch, pull.months, result.value)
        for result, pull in service.results_of(session, study_id)
        if result.attribute == attribute and pull.condition == condition
    ]


def evaluate(
    session: Session, study: StabilityStudy, attribute: str, condition: str, *, charts: bool = True
) -> Evaluation:
    spec = next(a for a in study.attributes if a["code"] == attribute)
    data = observations_of(session, study.id, attribute, condition)
    result: ShelfLife | None = None
    refused: str | None = None
    try:
        result = estimate_shelf_life(data, lower=spec["lower"], upper=spec["upper"])
    except ShelfLifeRefused as err:
        refused = str(err)
    title = f"{spec['name']} at {condition_label(condition)}"
    svg = (
        chart.shelf_life_chart(
            data, result, lower=spec["lower"], upper=spec["upper"], unit=spec["unit"], title=title
        )
        if charts
        else ""
    )
    return Evaluation(attribute, spec["name"], spec["unit"], condition, data, result, refused, svg)


def evaluations(
    session: Session, study: StabilityStudy, *, charts: bool = True
) -> list[Evaluation]:
    """Every attribute at every long-term condition: what the shelf life is set on."""
    return [
        evaluate(session, study, attribute["code"], condition["code"], charts=charts)
        for condition in study.conditions
        if condition["role"] == "long_term"
        for attribute in study.attributes
    ]
