"""The risk matrix as controlled configuration (``quality.risk_matrix``): which of the
matrices the code provides new risk assessments and deviation classifications are scored on."""

from __future__ import annotations

from typing import Any

from pharmaqms.kernel.configuration.store import ConfigKind, register_kind
from pharmaqms.quality.config import RISK_MATRIX, quality_settings
from pharmaqms.quality.risk.matrix import MATRICES


def _matrix_problems(content: Any) -> list[str]:
    if not isinstance(content, dict) or set(content) != {"matrix"}:
        return ['give the matrix by name, e.g. {"matrix": "5x5"}']
    if content["matrix"] not in MATRICES:
        return [f"no risk matrix {content['matrix']!r}; known: {', '.join(sorted(MATRICES))}"]
    return []


register_kind(
    ConfigKind(
        key=RISK_MATRIX,
        title="Risk matrix",
        module="risk",
        description="The ICH Q9 matrix new risk assessments and deviation classifications are "
        "scored on (one of the matrices the code provides). A record keeps the matrix it was "
        "scored on.",
        builtin=lambda: {"matrix": quality_settings().risk_matrix},
        validate=_matrix_problems,
        regulatory_basis="ICH Q9(R1) 5",
    )
)
