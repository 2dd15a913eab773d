"""The risk matrix as controlled configuration (``quality.risk_matrix``): the grid itself —
the named levels of severity, occurrence and detection, and the risk class of every
severity × occurrence cell — that new risk assessments and deviation classifications are
scored on. A record keeps the version it was scored on (``matrix_for``).

A version is written as::

    {"name": "5x5", "description": "…",
     "severity": ["negligible", …, "critical"],        # lowest first; score 1 is the first
     "occurrence": ["rare", …, "frequent"],
     "detection": ["almost certain", …, "remote"],     # the RPN's third factor (S × O × D)
     "escalate_from_detection": 4,                     # a score this poor raises the class a step
     "grid": [["low", "low", …], …]}                   # a row per severity, a cell per occurrence

Versions stored before the grid was configurable named a built-in matrix
(``{"matrix": "5x5"}``); they still resolve to it, so an old record is judged as it was."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.configuration.store import ConfigKind, InForce, Reading, register_kind
from pharmaqms.kernel.errors import NotFound
from pharmaqms.quality.config import RISK_MATRIX, quality_settings
from pharmaqms.quality.risk.matrix import LEVELS, MATRICES, RiskMatrix, matrix
from pharmaqms.quality.risk.models import RiskAssessment, RiskStatus

FACTORS = ("severity", "occurrence", "detection")
FIELDS = frozenset({"name", "description", *FACTORS, "escalate_from_detection", "grid"})
MIN_LEVELS = 3  # fewer cannot tell low, medium and high apart (ICH Q9(R1) 5.2)
MAX_LEVELS = 10


def grid_content(m: RiskMatrix) -> dict[str, Any]:
    """A matrix as a configuration version's content."""
    return {
        "name": m.name,
        "description": m.description,
        "severity": list(m.severity_levels or (str(i) for i in range(1, m.scale + 1))),
        "occurrence": list(m.occurrence_levels or (str(i) for i in range(1, m.scale + 1))),
        "detection": list(m.detection_levels or (str(i) for i in range(1, m.scale + 1))),
        "escalate_from_detection": m.escalate_from_detectability,
        "grid": [list(row) for row in m.grid],
    }


def matrix_of(content: Any) -> RiskMatrix:
    """The matrix a version gives: its grid, or the built-in matrix an old version named."""
    if "matrix" in content:
        return matrix(content["matrix"])
    return RiskMatrix(
        name=content["name"],
        scale=len(content["severity"]),
        grid=tuple(tuple(row) for row in content["grid"]),
        escalate_from_detectability=content.get("escalate_from_detection"),
        description=content.get("description", ""),
        severity_levels=tuple(content["severity"]),
        occurrence_levels=tuple(content["occurrence"]),
        detection_levels=tuple(content["detection"]),
    )


def _named_matrix_problems(content: dict[str, Any]) -> list[str]:
    name = content["matrix"]
    if name not in MATRICES:
        return [f"no risk matrix {name!r}; known: {', '.join(sorted(MATRICES))}"]
    return [
        f"give the grid itself, not the name {name!r}: the severity, occurrence and detection "
        "levels and the class of every cell (the version in force shows the form)"
    ]


def _scale_problems(factor: str, levels: Any) -> list[str]:
    if not isinstance(levels, list) or not all(
        isinstance(v, str) and v.strip() and len(v) <= 40 for v in levels
    ):
        return [f"{factor}: give its levels as a list of names (up to 40 characters), lowest first"]
    problems = []
    if len(levels) < MIN_LEVELS:
        problems.append(f"{factor} has {len(levels)} level(s): a scale needs at least {MIN_LEVELS}")
    if len(levels) > MAX_LEVELS:
        problems.append(f"{factor} has {len(levels)} levels: at most {MAX_LEVELS}")
    twice = sorted({v for v in levels if levels.count(v) > 1})
    if twice:
        problems.append(f"{factor} names a level twice: {', '.join(twice)}")
    return problems


def _cell_problems(content: dict[str, Any]) -> list[str]:
    severity, occurrence, grid = content["severity"], content["occurrence"], content["grid"]
    if not isinstance(grid, list) or not all(isinstance(row, list) for row in grid):
        return ["grid: give a row per severity level, each a list of classes per occurrence level"]
    problems = []
    if len(grid) != len(severity):
        problems.append(
            f"grid has {len(grid)} row(s) for {len(severity)} severity levels: a row per "
            "severity level, lowest first"
        )
    for s_name, row in zip(severity, grid, strict=False):
        missing = occurrence[len(row) :]
        if missing:
            problems.append(
                f"missing cells: severity {s_name!r} × occurrence {', '.join(map(repr, missing))}"
            )
        if len(row) > len(occurrence):
            problems.append(
                f"severity {s_name!r} has {len(row)} cells for {len(occurrence)} occurrence levels"
            )
        for o_name, cell in zip(occurrence, row, strict=False):
            if cell not in LEVELS:
                problems.append(
                    f"severity {s_name!r} × occurrence {o_name!r}: {cell!r} is not a risk class "
                    f"({', '.join(LEVELS)})"
                )
    return problems


def grid_problems(content: Any) -> list[str]:
    """The schema: a well-formed grid with named levels and a known class in every cell."""
    if isinstance(content, dict) and set(content) == {"matrix"}:
        return _named_matrix_problems(content)
    if not isinstance(content, dict):
        return ["give the matrix as an object with name, severity, occurrence, detection, grid"]
    missing = sorted({"name", *FACTORS, "grid"} - set(content))
    unknown = sorted(set(content) - FIELDS)
    if missing or unknown:
        return [
            *([f"missing: {', '.join(missing)}"] if missing else []),
            *([f"unknown fields: {', '.join(unknown)}"] if unknown else []),
        ]
    problems = []
    name = content["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 40:
        problems.append("name: give the matrix a name of up to 40 characters")
    if not isinstance(content.get("description", ""), str):
        problems.append("description: a text")
    for factor in FACTORS:
        problems += _scale_problems(factor, content[factor])
    if problems:
        return problems
    sizes = {factor: len(content[factor]) for factor in FACTORS}
    if len(set(sizes.values())) > 1:
        problems.append(
            "every factor is scored on one scale (the RPN is severity × occurrence × "
            "detection): " + ", ".join(f"{factor} has {n}" for factor, n in sizes.items())
        )
    escalate = content.get("escalate_from_detection")
    n = sizes["detection"]
    if escalate is not None and (
        isinstance(escalate, bool) or not isinstance(escalate, int) or not 1 <= escalate <= n
    ):
        problems.append(
            f"escalate_from_detection: a detection score from 1 to {n}, or null for none"
        )
    return problems + _cell_problems(content)


def grid_controls(content: Any) -> list[str]:
    """ICH Q9(R1): a worse severity or occurrence never gives a lower risk class."""
    if "matrix" in content:
        return []
    severity, occurrence, grid = content["severity"], content["occurrence"], content["grid"]
    rank = LEVELS.index
    problems = []
    for s, row in enumerate(grid):
        for o in range(1, len(row)):
            if rank(row[o]) < rank(row[o - 1]):
                problems.append(
                    f"not monotonic: severity {severity[s]!r} × occurrence {occurrence[o]!r} is "
                    f"{row[o]}, lower than {row[o - 1]} at the less frequent "
                    f"{occurrence[o - 1]!r}"
                )
    for s in range(1, len(grid)):
        for o, cell in enumerate(grid[s]):
            if rank(cell) < rank(grid[s - 1][o]):
                problems.append(
                    f"not monotonic: severity {severity[s]!r} × occurrence {occurrence[o]!r} is "
                    f"{cell}, lower than {grid[s - 1][o]} at the less severe {severity[s - 1]!r}"
                )
    return problems


def _sandbox(session: Session, current: InForce, proposed: Any) -> list[str]:
    """The cells whose class changes, and the draft assessments that keep their matrix."""
    old, new = matrix_of(current.content), matrix_of(proposed)
    lines = [f"{old.name} ({old.scale} levels) → {new.name} ({new.scale} levels)"]
    if old.scale == new.scale:
        changed = [
            f"severity {new.level_name('severity', s)} × occurrence "
            f"{new.level_name('occurrence', o)}: {old.grid[s - 1][o - 1]} → "
            f"{new.grid[s - 1][o - 1]}"
            for s in range(1, new.scale + 1)
            for o in range(1, new.scale + 1)
            if old.grid[s - 1][o - 1] != new.grid[s - 1][o - 1]
        ]
        lines.append(f"{len(changed)} cell(s) change class")
        lines += changed[:25]
    else:
        lines.append("the scale changes: scores of new records are on the new scale")
    drafts = session.scalars(
        select(RiskAssessment.number).where(RiskAssessment.status == RiskStatus.DRAFT.value)
    ).all()
    lines.append(
        f"{len(drafts)} draft risk assessment(s) keep the matrix they were started on; "
        "assessments and classifications from the effective date use the new one"
    )
    return lines


def matrix_in_force(session: Session) -> tuple[InForce, RiskMatrix]:
    used = config_store.in_force(session, RISK_MATRIX)
    return used, matrix_of(used.content)


def matrix_for(session: Session, record: Any, fallback: str) -> RiskMatrix:
    """The matrix a record was scored on: the version its action recorded, else (a record
    made before the matrix was controlled configuration) the built-in one it names."""
    used = config_store.used_on(session, record, RISK_MATRIX)
    return matrix_of(used.content) if used is not None else matrix(fallback)


def _draft_from(content: Any) -> Any:
    """A version that named a built-in matrix is offered as its grid: the form a new version
    must take."""
    if isinstance(content, dict) and "matrix" in content:
        try:
            return grid_content(matrix_of(content))
        except NotFound:
            return content
    return content


register_kind(
    ConfigKind(
        key=RISK_MATRIX,
        title="Risk matrix",
        module="risk",
        description="The ICH Q9 grid new risk assessments and deviation classifications are "
        "scored on: the named levels of severity, occurrence and detection, and the risk class "
        "(low, medium, high) of every severity × occurrence cell. A record keeps the version it "
        "was scored on.",
        builtin=lambda: grid_content(matrix(quality_settings().risk_matrix)),
        validate=grid_problems,
        controls=grid_controls,
        sandbox=_sandbox,
        regulatory_basis="ICH Q9(R1) 5",
        # The coloured grid the assessments are scored on (risk/_grid.html).
        reading=lambda content: Reading("risk_grid", matrix_of(content)),
        draft_from=_draft_from,
    )
)
