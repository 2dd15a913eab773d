"""The life of an annual product quality review, and who may do what.

draft (generated: the figures frozen with their hash; QA writes the conclusions and actions)
→ concluded (the QA author's e-signature, "Authored", over figures and conclusions; only the
person who wrote the conclusions signs them) → effective (a second person's e-signature,
"Approved": the QP or the head of QA, never the author nor whoever generated the review or
wrote its conclusions). Concluded can go back to draft with a reason (the approver disagrees);
the author then signs again. Any edition not yet effective, or the effective one when a later
edition becomes effective, is superseded: a regeneration is a new edition, never an edit.
"""

from __future__ import annotations

from typing import Any

from pharmaqms.compliance.apqr.models import ProductQualityReview, ReviewStatus
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states

AUTHORS = ("qa",)
# The approver: the QP or the head of QA (a QA person other than the author).
APPROVERS = ("qualified_person", "qa")

grant("apqr.write", *AUTHORS)
grant("apqr.approve", *APPROVERS)


def _concluded(review: Any) -> list[str]:
    missing = []
    if not review.conclusions.strip():
        missing.append(f"{review.audit_label()} has no conclusions yet")
    if not review.actions.strip():
        missing.append(
            f"{review.audit_label()} names no actions (write 'none' if the review found "
            "nothing to act on)"
        )
    return missing


def _only_who_concluded(review: Any, actor: Actor) -> list[str]:
    # No conclusions yet: the guard on the content says so.
    if review.concluded_by_id is not None and review.concluded_by_id != actor.user_id:
        return [
            f"only the QA person who wrote the conclusions of {review.audit_label()} signs them"
        ]
    return []


REVIEW_WORKFLOW = Workflow(
    record_type="apqr_review",
    states=tuple(s.value for s in ReviewStatus),
    initial=ReviewStatus.DRAFT.value,
    retired_states=frozenset({ReviewStatus.SUPERSEDED.value}),
    transitions=(
        Transition(
            "conclude",
            "Sign the conclusions",
            states("draft"),
            "concluded",
            roles(*AUTHORS),
            signature="Authored",
            guards=(_concluded,),
            actor_guards=(_only_who_concluded,),
        ),
        Transition(
            "return",
            "Return the conclusions for rework",
            states("concluded"),
            "draft",
            roles(*APPROVERS),
            reason_required=True,
        ),
        Transition(
            "approve",
            "Approve the review",
            states("concluded"),
            "effective",
            roles(*APPROVERS),
            signature="Approved",
            forbid_author=True,
            forbid_signers_of=frozenset({"Authored"}),
            forbid_holders_of=("concluded_by_id",),
        ),
        Transition(
            "supersede",
            "Supersede by a later edition",
            states("draft", "concluded", "effective"),
            "superseded",
            roles(*AUTHORS, *APPROVERS),
            reason_required=True,
        ),
    ),
)

REVIEW = register(
    RecordType(
        name="apqr_review",
        label="Annual product quality review",
        plural="Annual product quality reviews",
        model=ProductQualityReview,
        workflow=REVIEW_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("product_code", "Product"),
            ("year", "Year"),
            ("edition", "Edition"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("product_code", "Product"),
            ("product_name", "Product name"),
            ("year", "Year"),
            ("edition", "Edition"),
            ("figures_sha256", "Figures SHA-256"),
            ("pdf_sha256", "PDF SHA-256"),
        ),
        module="compliance",
        detail_url=lambda r: f"/compliance/apqr/reviews/{r.id}",
        searchable=("number", "product_code"),
    )
)
