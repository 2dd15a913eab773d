"""The demonstration's manuals: every shipped manual in force, authored by one QA and approved
by the other (authorship and approval are kept apart). An installation without the manuals
folder beside it (a wheel, not a checkout) loads the demo without them and says so."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from pharmaqms.compliance.manuals import files, service
from pharmaqms.kernel.demo import DemoContext, register

log = logging.getLogger(__name__)


def load(session: Session, ctx: DemoContext) -> None:
    folder = files.manuals_dir()
    if not folder.is_dir():
        log.warning("no manuals folder at %s: the demo holds no manuals", folder)
        return
    service.load_manuals(
        session,
        files.read_all(folder),
        actor=ctx.people["rosa.qa"],
        approval=service.Approval(ctx.people["quinn.qa"], ctx.password),
    )


register("manuals", load)
