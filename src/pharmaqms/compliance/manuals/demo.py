"""The demonstration's manuals: every shipped manual in force, authored by one QA and approved
by the other (authorship and approval are kept apart)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.compliance.manuals import files, service
from pharmaqms.kernel.demo import DemoContext, register


def load(session: Session, ctx: DemoContext) -> None:
    service.load_manuals(
        session,
        files.read_all(),
        actor=ctx.people["rosa.qa"],
        approval=service.Approval(ctx.people["quinn.qa"], ctx.password),
    )


register("manuals", load)
