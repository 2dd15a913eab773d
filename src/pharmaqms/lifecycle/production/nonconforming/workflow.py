"""The life of a nonconforming product record:

open → proposed → approved → closed                 (rework, reprocess, reject, destroy)
open → proposed → qp_review → approved → closed     (release under concession)
proposed | qp_review → open when returned; open | proposed → cancelled

QA approves every disposition with its signature, and not the person who proposed it; a
concession also needs the Qualified Person's signature. Approval applies the disposition to the
lot (rejected for reject and destroy; a concession lets the lot go back into the release
process); closing records that the disposition was carried out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.lifecycle.production.nonconforming.models import (
    Disposition,
    NonconformanceStatus,
    NonconformingProduct,
)

PROPOSERS = ("qa", "production_supervisor", "qc_analyst")

grant("nonconformance.report", "qa", "qc_analyst", "production_supervisor", "production_operator")
grant("nonconformance.disposition", *PROPOSERS)

QA = roles("qa")


def disposition_proposed(nc: Any) -> list[str]:
    reasons = []
    if nc.disposition not in {d.value for d in Disposition}:
        reasons.append(
            "no disposition is chosen (rework, reprocess, reject, destroy or release under "
            "concession)"
        )
    if not (nc.disposition_rationale or "").strip():
        reasons.append("the rationale of the disposition is missing")
    if (
        nc.disposition == Disposition.RELEASE_UNDER_CONCESSION
        and not (nc.concession_terms or "").strip()
    ):
        reasons.append("a concession must state its terms (what is accepted, for what, why)")
    return reasons


def not_a_concession(nc: Any) -> list[str]:
    if nc.disposition == Disposition.RELEASE_UNDER_CONCESSION:
        return ["a release under concession also needs the Qualified Person: approve it for QP"]
    return []


def is_a_concession(nc: Any) -> list[str]:
    if nc.disposition != Disposition.RELEASE_UNDER_CONCESSION:
        return ["only a release under concession goes to the Qualified Person"]
    return []


def execution_recorded(nc: Any) -> list[str]:
    if not (nc.execution_record or "").strip():
        return [
            "record how the disposition was carried out (rework batch record, destruction "
            "certificate, release note)"
        ]
    return []


def not_from_confirmed_oos(nc: Any) -> list[str]:
    if nc.source_type == "oos_investigation":
        return [
            "a nonconformance opened by a confirmed OOS can't be cancelled: decide its "
            "disposition instead"
        ]
    return []


def _note_proposer(session: Session, nc: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.nonconforming.service import note_proposer

    note_proposer(session, nc, actor=actor)


def _apply(session: Session, nc: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.nonconforming.service import apply_disposition

    apply_disposition(session, nc, actor=actor)


def _on_closed(session: Session, nc: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.nonconforming.service import on_closed

    on_closed(session, nc, actor=actor)


def _on_cancelled(session: Session, nc: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.nonconforming.service import on_cancelled

    on_cancelled(session, nc, actor=actor)


NONCONFORMANCE_WORKFLOW = Workflow(
    record_type="nonconforming_product",
    states=tuple(s.value for s in NonconformanceStatus),
    initial=NonconformanceStatus.OPEN.value,
    labels={"qp_review": "awaiting the Qualified Person", "proposed": "disposition proposed"},
    retired_states=frozenset({NonconformanceStatus.CANCELLED.value}),
    transitions=(
        Transition(
            "propose",
            "Propose the disposition",
            states("open"),
            "proposed",
            roles(*PROPOSERS),
            guards=(disposition_proposed,),
            effects=(_note_proposer,),
        ),
        Transition(
            "return_for_revision",
            "Return for revision",
            states("proposed", "qp_review"),
            "open",
            roles("qa", "qualified_person"),
            reason_required=True,
        ),
        Transition(
            "approve",
            "Approve the disposition",
            states("proposed"),
            "approved",
            QA,
            signature="Approved",
            forbid_holders_of=("proposed_by_id",),
            guards=(disposition_proposed, not_a_concession),
            effects=(_apply,),
        ),
        Transition(
            "approve_for_qp",
            "Approve the concession for the Qualified Person",
            states("proposed"),
            "qp_review",
            QA,
            signature="Approved",
            forbid_holders_of=("proposed_by_id",),
            guards=(disposition_proposed, is_a_concession),
        ),
        Transition(
            "certify_concession",
            "Certify the release under concession",
            states("qp_review"),
            "approved",
            roles("qualified_person"),
            signature="Approved",
            forbid_holders_of=("proposed_by_id",),
            guards=(disposition_proposed, is_a_concession),
            effects=(_apply,),
        ),
        Transition(
            "close",
            "Close: disposition carried out",
            states("approved"),
            "closed",
            QA,
            signature="Closed",
            guards=(execution_recorded,),
            effects=(_on_closed,),
        ),
        Transition(
            "cancel",
            "Cancel (not nonconforming)",
            states("open", "proposed"),
            "cancelled",
            QA,
            signature="Closed",
            reason_required=True,
            guards=(not_from_confirmed_oos,),
            effects=(_on_cancelled,),
        ),
    ),
    on_enter={
        "proposed": TaskSpec("approve", "Approve the disposition of {label}", "qa", 5),
        "qp_review": TaskSpec(
            "certify", "Certify the concession of {label}", "qualified_person", 5
        ),
        "approved": TaskSpec(
            "execute", "Carry out and record the disposition of {label}", "qa", 20
        ),
    },
)

NONCONFORMING_PRODUCT = register(
    RecordType(
        name="nonconforming_product",
        label="Nonconforming product",
        plural="Nonconforming products",
        model=NonconformingProduct,
        workflow=NONCONFORMANCE_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("source_label", "Raised from"),
            ("disposition", "Disposition"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("source_label", "Raised from"),
            ("description", "Description"),
            ("disposition", "Disposition"),
            ("disposition_rationale", "Rationale"),
            ("concession_terms", "Concession terms"),
            ("execution_record", "Carried out"),
            ("closed_at", "Closed"),
        ),
        module="production",
        detail_url=lambda nc: f"/production/nonconformances/{nc.id}",
        searchable=("number", "source_label", "description"),
    )
)
