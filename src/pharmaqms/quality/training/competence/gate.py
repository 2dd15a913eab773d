"""The qualification gate: a signed duty of the rule table (``rules.DUTY_RULES``, such as the
QP's batch release) is refused unless the signer is qualified for it at that moment.

Where it lives, and why: production may import quality (it is the layer below), so the
release service could call this itself; the kernel's hook is chosen instead. The workflow
engine keeps a list of gates (``kernel.workflow.register_gate``) that ``perform`` runs after
its role and guard checks and before it asks for the signature or writes anything; quality
fills it here. So a duty's signature can't be taken around the gate by any entry point (API,
page, CLI, a future module): all of them sign through ``perform``; production's release keeps
no knowledge of training; and the release checklist page shows the refusal before the click
through ``kernel.workflow.gate_refusals`` (asked of the decision not yet made).

The refusal (403, ``not_qualified``) names every gap, each with its regulatory basis; nothing
is written, and the unit of work that asked rolls back whatever it had added.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import PermissionDenied
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.workflow import Transition
from pharmaqms.quality.training.competence.rules import duty_rules_for
from pharmaqms.quality.training.competence.status import duty_gaps


class NotQualified(PermissionDenied):
    code = "not_qualified"
    title = "Not qualified for this duty"


def require_qualified(session: Session, actor: Actor, record_type: str, step: str) -> None:
    """Refuse (``NotQualified``) unless the actor is qualified for every duty this step is.
    Writes nothing. Service accounts hold no duties and can't sign; they are not gated."""
    if actor.is_service_account:
        return
    for rule in duty_rules_for(record_type, step):
        gaps = duty_gaps(session, actor.user_id, rule)
        if gaps:
            raise NotQualified(
                f"{actor.full_name} ({actor.username}) is not qualified to {rule.duty}: "
                + "; ".join(g.detail for g in gaps),
                reasons=[g.detail for g in gaps],
                extra={
                    "duty": rule.code,
                    "duty_basis": rule.basis,
                    "missing": [g.as_dict() for g in gaps],
                },
            )


def duty_needs_qualification(
    session: Session, actor: Actor, record: GxPRecord, transition: Transition
) -> None:
    require_qualified(session, actor, record.__audit_type__, transition.name)
