"""``pharmaqms demo``: the supply chain of the demo lots, as EPCIS deliveries (the loader lives
here because the platform does not import the command line)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.platform.genealogy.demo import load_chain


def load(session: Session, ctx: DemoContext) -> None:
    load_chain(
        session,
        admin=ctx.people["amelia.admin"],
        logistics=ctx.people["lena.logistics"],
        lots=max(2, round(6 * ctx.scale)),
        seed=ctx.rng.randint(0, 1_000_000),
    )


register("supply chain (EPCIS)", load)
