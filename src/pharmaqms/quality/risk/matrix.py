"""Risk matrices (ICH Q9(R1)): how severity, occurrence and detectability scores become a risk
priority number and a risk level. Pure functions, no database.

A matrix is a grid of levels by severity (rows) and occurrence (columns); poor detectability
(a score at or above ``escalate_from_detectability``) raises the level one step, because a
failure nobody notices reaches the patient. The matrix in force is controlled configuration
(``quality.risk_matrix``, see ``configuration``): its version gives the grid itself, with the
named levels of each factor. The matrices here are the code's built-in ones: the first version
is one of them (``PHARMAQMS_QUALITY_RISK_MATRIX`` names which), and a version made before the
grid was configurable named one of them, which still resolves.
"""

from __future__ import annotations

from dataclasses import dataclass

from pharmaqms.kernel.errors import InvalidInput, NotFound

LEVELS = ("low", "medium", "high")


@dataclass(frozen=True)
class RiskMatrix:
    name: str
    scale: int
    # grid[severity - 1][occurrence - 1] is a level of LEVELS.
    grid: tuple[tuple[str, ...], ...]
    escalate_from_detectability: int | None
    description: str = ""
    # The named levels of each factor, lowest first (score 1 is the first); empty: numbers only.
    severity_levels: tuple[str, ...] = ()
    occurrence_levels: tuple[str, ...] = ()
    detection_levels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.grid) != self.scale or any(len(row) != self.scale for row in self.grid):
            raise ValueError(f"risk matrix {self.name}: the grid must be {self.scale}×{self.scale}")
        unknown = {cell for row in self.grid for cell in row} - set(LEVELS)
        if unknown:
            raise ValueError(f"risk matrix {self.name}: unknown levels {sorted(unknown)}")
        for row in self.grid:
            ranks = [LEVELS.index(cell) for cell in row]
            if ranks != sorted(ranks):
                raise ValueError(f"risk matrix {self.name}: risk must not fall as occurrence rises")
        for col in range(self.scale):
            ranks = [LEVELS.index(self.grid[s][col]) for s in range(self.scale)]
            if ranks != sorted(ranks):
                raise ValueError(f"risk matrix {self.name}: risk must not fall as severity rises")

    def level_name(self, factor: str, score: int) -> str:
        """The named level of a score (``factor``: severity, occurrence or detection)."""
        names: tuple[str, ...] = getattr(self, f"{factor}_levels")
        return names[score - 1] if 1 <= score <= len(names) else str(score)

    def check_score(self, value: int, field: str, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= self.scale:
            raise InvalidInput(
                f"{what} must be a whole number from 1 to {self.scale} ({self.name} matrix)",
                field=field,
            )
        return value

    def rpn(self, severity: int, occurrence: int, detectability: int) -> int:
        return severity * occurrence * detectability

    def level(self, severity: int, occurrence: int, detectability: int) -> str:
        base = LEVELS.index(self.grid[severity - 1][occurrence - 1])
        threshold = self.escalate_from_detectability
        if threshold is not None and detectability >= threshold:
            base = min(base + 1, len(LEVELS) - 1)
        return LEVELS[base]


DEFAULT_5X5 = RiskMatrix(
    name="5x5",
    scale=5,
    grid=(
        ("low", "low", "low", "low", "medium"),
        ("low", "low", "medium", "medium", "medium"),
        ("low", "medium", "medium", "high", "high"),
        ("medium", "medium", "high", "high", "high"),
        ("medium", "high", "high", "high", "high"),
    ),
    escalate_from_detectability=4,
    description="Severity × occurrence, 1–5 each; detectability 4 or 5 raises the level a step",
    severity_levels=("negligible", "minor", "moderate", "major", "critical"),
    occurrence_levels=("rare", "unlikely", "possible", "likely", "frequent"),
    detection_levels=("almost certain", "high", "moderate", "low", "remote"),
)

SIMPLE_3X3 = RiskMatrix(
    name="3x3",
    scale=3,
    grid=(
        ("low", "low", "medium"),
        ("low", "medium", "high"),
        ("medium", "high", "high"),
    ),
    escalate_from_detectability=3,
    description="Low / medium / high for each factor; detectability 3 raises the level a step",
    severity_levels=("low", "medium", "high"),
    occurrence_levels=("low", "medium", "high"),
    detection_levels=("easily detected", "may be detected", "hardly detected"),
)

MATRICES: dict[str, RiskMatrix] = {m.name: m for m in (DEFAULT_5X5, SIMPLE_3X3)}


def register_matrix(matrix: RiskMatrix) -> None:
    MATRICES[matrix.name] = matrix


def matrix(name: str) -> RiskMatrix:
    try:
        return MATRICES[name]
    except KeyError:
        raise NotFound(f"no risk matrix {name!r}; known: {', '.join(sorted(MATRICES))}") from None
