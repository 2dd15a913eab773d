"""Risk-factor analysis over the database: the product's cases (as the periodic summary
selects them) analysed by ``analysis.analyse``. Reads only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.use.psur.selection import ProductScope, cases_for, resolve_product
from pharmaqms.lifecycle.use.risk.analysis import Outcome, RiskAnalysis, analyse


def _clean(text: str | None, field: str) -> str | None:
    value = " ".join((text or "").split())
    if len(value) > 200:
        raise InvalidInput(f"the {field} is at most 200 characters", field=field)
    return value or None


def risk_factors(
    session: Session, product: str, *, term: str | None = None, comedication: str | None = None
) -> tuple[ProductScope, RiskAnalysis]:
    scope = resolve_product(session, product)
    outcome = Outcome(_clean(term, "term"))
    return scope, analyse(
        cases_for(session, scope), outcome, comedication=_clean(comedication, "comedication")
    )
