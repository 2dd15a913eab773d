"""``pharmaqms demo``: the data platform's demo company — master data, a year of batches with
process data and QC results, adverse-event reports — delivered through the connectors (the
loader lives here because the platform does not import the command line)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.platform.demo import load


def _load(session: Session, ctx: DemoContext) -> None:
    load(session, people=ctx.people, rng=ctx.rng, scale=ctx.scale)


register("data platform (MES, LIMS, FAERS, scans)", _load)
