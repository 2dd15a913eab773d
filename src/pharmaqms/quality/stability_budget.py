"""The stability budget of a product across modules: R&D derives it from stability data, the
cold chain spends it (allowed hours per temperature band outside the labelled condition, EU GDP
9.2 and 9.3). Neither module imports the other: the cold chain registers the *keeper* of the
budget here at import, and R&D puts a budget in force through this module::

    # distribution, at import
    register_budget_keeper(set_budget)

    # R&D, once its rules and the change control allow it
    put_in_force(session, actor=qa, product_code="INS100", bands=[...], basis="STB-… under CC-…")

With no keeper installed (a deployment without the distribution module) it refuses by name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import Conflict
from pharmaqms.kernel.identity import Actor


@dataclass(frozen=True)
class BudgetBand:
    """Allowed hours in [low_c, high_c) °C; None is open-ended (below the lowest, above the
    highest)."""

    name: str
    low_c: float | None
    high_c: float | None
    allowed_h: float


class BudgetKeeper(Protocol):
    def __call__(
        self,
        session: Session,
        *,
        actor: Actor,
        product_code: str,
        bands: Sequence[BudgetBand],
        basis: str,
    ) -> None: ...


_KEEPERS: list[BudgetKeeper] = []


def register_budget_keeper(keeper: BudgetKeeper) -> None:
    _KEEPERS[:] = [keeper]


def put_in_force(
    session: Session,
    *,
    actor: Actor,
    product_code: str,
    bands: Sequence[BudgetBand],
    basis: str,
) -> None:
    if not _KEEPERS:
        raise Conflict("no module keeps stability budgets here (the cold chain is not installed)")
    _KEEPERS[0](session, actor=actor, product_code=product_code, bands=bands, basis=basis)
