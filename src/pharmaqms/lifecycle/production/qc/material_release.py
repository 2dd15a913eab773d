"""Where QC hands an approved material lot over to be released: the supplier's standing on
the approved supplier list decides (EU GMP 5.27–5.30, 21 CFR 211.84), and that list is the
materials module's, which itself reads QC's verdicts (a scan shows a lot's QC status). So the
materials module registers its release step here when it is imported, and QC never imports it.

Fail closed: with no release step registered, approving a material lot's certificate is refused
rather than leaving the lot in quarantine with an approved certificate and no reason given."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import Conflict
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.masterdata.models import Lot

# (session, the lot in quarantine, why — "released by QC: COA-… approved", actor)
ReleaseStep = Callable[[Session, Lot, str, Actor], None]

_step: list[ReleaseStep] = []


def register(step: ReleaseStep) -> None:
    """Set the step that releases a material lot whose certificate QA approved."""
    _step[:] = [step]


def release_material_lot(session: Session, lot: Lot, reason: str, *, actor: Actor) -> None:
    if not _step:
        raise Conflict(
            f"{lot.audit_label()} can't be released: the approved supplier list is not loaded "
            "in this process"
        )
    _step[0](session, lot, reason, actor)
