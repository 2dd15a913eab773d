"""Configuration content as QA reads it, beside its JSON: the risk matrix as a grid, the
effectiveness templates and the release rule sets as tables. A key without a reading here is
shown as JSON only. Reads content already validated (a stored version), so it does not check
it again; content that does not read is shown as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pharmaqms.kernel.errors import NotFound
from pharmaqms.lifecycle.production.release.rule_sets import (
    DEFAULT,
    FAMILIES,
    RELEASE_RULE_SETS,
    rules_for,
)
from pharmaqms.lifecycle.production.release.rules import RULES
from pharmaqms.quality.capa.effectiveness import CAPA_EFFECTIVENESS_TEMPLATES, criteria_text
from pharmaqms.quality.config import RISK_MATRIX
from pharmaqms.quality.risk.configuration import grid_content, matrix_of


@dataclass(frozen=True)
class Reading:
    # Which partial of ``compliance/_config_readable.html`` shows it.
    form: str
    data: Any


def _release_sets(content: Any) -> dict[str, Any]:
    """A row per rule of the catalogue, a column per family that has its own set (and the
    default), each cell whether the family's batches run the rule."""
    families = [DEFAULT, *(f.code for f in FAMILIES if f.code in content)]
    titles = {f.code: f.title for f in FAMILIES} | {DEFAULT: "every other family"}
    runs = {family: {r.code for r in rules_for(content, family)} for family in families}
    return {
        "families": [(family, titles[family]) for family in families],
        "rows": [(rule, [rule.code in runs[family] for family in families]) for rule in RULES],
        "placed_by": [(f.code, ", ".join(f.words)) for f in FAMILIES],
    }


def _templates(content: Any) -> list[dict[str, Any]]:
    return [{**t, "criteria": criteria_text(t)} for t in content]


def reading(key: str, content: Any) -> Reading | None:
    try:
        if key == RISK_MATRIX:
            return Reading("grid", matrix_of(content))
        if key == RELEASE_RULE_SETS:
            return Reading("rule_sets", _release_sets(content))
        if key == CAPA_EFFECTIVENESS_TEMPLATES:
            return Reading("templates", _templates(content))
    except (KeyError, TypeError, ValueError, LookupError, NotFound):
        return None  # shown as its JSON
    return None


def editable(key: str, content: Any) -> Any:
    """The content to start a new draft from: a risk matrix version that named a built-in
    matrix is offered as its grid, the form a new version must take."""
    if key == RISK_MATRIX and isinstance(content, dict) and "matrix" in content:
        try:
            return grid_content(matrix_of(content))
        except NotFound:
            return content
    return content
