"""The approval lifecycle of a document version:

draft → in_review → approved → effective → superseded | obsolete
(in_review → draft when returned; draft → withdrawn when abandoned; effective → superseded only
when a revision becomes effective)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, object_session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.quality.documents import reviews, training_rules
from pharmaqms.quality.documents.models import DocumentVersion, PeriodicReview
from pharmaqms.quality.documents.templates import template_for
from pharmaqms.quality.documents.training_port import training

grant("documents.author", "qa", "qc_analyst", "production_supervisor", "rd_scientist")
grant("documents.approve", "qa", "qualified_person")
# Named reviewers come from every working function (the supervisor who runs the procedure,
# the QC analyst whose method it cites); an auditor reads, an integration account does not.
grant(
    "documents.review",
    "qa",
    "qc_analyst",
    "production_operator",
    "production_supervisor",
    "qualified_person",
    "pv_officer",
    "rd_scientist",
    "logistics",
)

AUTHORS = roles("qa", "qc_analyst", "production_supervisor", "rd_scientist", "admin")
APPROVERS = roles("qa", "qualified_person")


def has_content(version: Any) -> list[str]:
    reasons = []
    if not (version.title or "").strip():
        reasons.append("the version has no title")
    body = (version.body or "").strip()
    if len(body) < 20:
        reasons.append("the version has no content to review (at least 20 characters)")
    elif version.document is not None and body == template_for(version.document.doc_type).strip():
        reasons.append("the content is still the template of its type: write the document")
    if (version.major, version.minor) != (1, 0) and not (version.change_summary or "").strip():
        reasons.append("a revision needs a summary of what changed and why")
    return reasons


def effective_date_reached(version: Any) -> list[str]:
    if version.effective_from is not None and version.effective_from > clock.now():
        return [
            f"the version is scheduled to become effective on {format_time(version.effective_from)}"
        ]
    return []


def training_named(version: Any) -> list[str]:
    """Guard of ``make_effective`` (by hand and by the daily job): a version that needs
    training comes into force only once a job role's curriculum names its document
    (``training_rules``)."""
    session = object_session(version)
    if session is None:
        return ["the version is not loaded from the database"]
    return training_rules.training_named(training_rules.facts_of(session, version))


def training_assigned(version: Any) -> str:
    """What making the version effective did for training, in one sentence."""
    session = object_session(version)
    if session is None:
        return ""
    # Training's facts (``training_port``): document control does not import training.
    count = training().people_trained_on(session, version.id)
    roles = training().job_roles_naming(session, version.document_id)
    who = "person" if count == 1 else "people"
    assigned = f"Training on {version.number} assigned to {count} {who}"
    if roles:
        return f"{assigned} in the job role{'s' if len(roles) > 1 else ''} {', '.join(roles)}."
    kind = version.document.doc_type.replace("_", " ")
    return f"{assigned}: no job role's curriculum names it (a {kind} needs no training)."


def superseded_by_a_successor(version: Any) -> list[str]:
    """A version in force gives way only to its successor becoming effective (document control
    does it then); superseding it by hand would leave the document with nothing in force."""
    current = version.document.current_version_id
    if current is None or current == version.id:
        return [
            f"{version.audit_label()} is the version in force: it is superseded only when a "
            "revision becomes effective; to withdraw the document, make it obsolete"
        ]
    return []


def _supersede_previous(session: Session, version: Any, actor: Actor) -> None:
    from pharmaqms.quality.documents.service import on_effective

    on_effective(session, version, actor=actor)


def _on_obsolete(session: Session, version: Any, actor: Actor) -> None:
    from pharmaqms.quality.documents.service import on_obsolete

    on_obsolete(session, version, actor=actor)


DOCUMENT_VERSION_WORKFLOW = Workflow(
    record_type="document_version",
    states=("draft", "in_review", "approved", "effective", "superseded", "obsolete", "withdrawn"),
    initial="draft",
    labels={"in_review": "in review"},
    retired_states=frozenset({"superseded", "obsolete", "withdrawn"}),
    transitions=(
        Transition(
            "submit",
            "Submit for review",
            states("draft"),
            "in_review",
            AUTHORS,
            guards=(has_content,),
            effects=(reviews.open_review_round,),
        ),
        Transition(
            "return_to_draft",
            "Return to draft",
            states("in_review", "approved"),
            "draft",
            APPROVERS | AUTHORS,
            reason_required=True,
            effects=(reviews.close_open_review_tasks,),
        ),
        Transition(
            "approve",
            "Approve",
            states("in_review"),
            "approved",
            APPROVERS,
            signature="Approved",
            forbid_author=True,
            guards=(has_content, reviews.reviews_done),
        ),
        Transition(
            "make_effective",
            "Make effective",
            states("approved"),
            "effective",
            roles("qa", "system"),
            guards=(effective_date_reached, training_named),
            effects=(_supersede_previous,),
            outcome=training_assigned,
        ),
        Transition(
            "supersede",
            "Supersede",
            states("effective"),
            "superseded",
            roles("qa", "system"),
            reason_required=True,
            guards=(superseded_by_a_successor,),
        ),
        Transition(
            "make_obsolete",
            "Make obsolete",
            states("effective"),
            "obsolete",
            APPROVERS,
            signature="Retired",
            reason_required=True,
            effects=(_on_obsolete,),
        ),
        Transition(
            "withdraw",
            "Withdraw draft",
            states("draft"),
            "withdrawn",
            AUTHORS | APPROVERS,
            reason_required=True,
            withdrawable=True,
        ),
    ),
    on_enter={
        "in_review": TaskSpec("approve", "Review and approve {label}", "qa", due_in_days=10),
        "approved": TaskSpec(
            "make_effective", "Make {label} effective (train first)", "qa", due_in_days=30
        ),
    },
)

DOCUMENT_VERSION = register(
    RecordType(
        name="document_version",
        label="Document version",
        plural="Document versions",
        model=DocumentVersion,
        workflow=DOCUMENT_VERSION_WORKFLOW,
        list_columns=(("number", "Number"), ("title", "Title"), ("status", "Status")),
        detail_fields=(
            ("number", "Number"),
            ("title", "Title"),
            ("label", "Version"),
            ("status", "Status"),
            ("change_summary", "Change summary"),
            ("effective_from", "Effective from (scheduled)"),
            ("effective_at", "Effective since"),
        ),
        module="documents",
        detail_url=lambda v: f"/documents/{v.document_id}?version={v.id}",
        searchable=("number", "title"),
    )
)


# --- periodic review --------------------------------------------------------------------

REVIEWERS = AUTHORS | APPROVERS


def revision_linked(review: Any) -> list[str]:
    # The new draft is created by the service verb (``periodic_review.start_revision``), which
    # links it first: a bare transition would end the review with nothing to show for it.
    if review.revision_version_id is None:
        return ["start the revision from the periodic review: it creates or links the new draft"]
    return []


def _review_concluded(session: Session, review: Any, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason=f"periodic review {review.status}"):
        review.concluded_at = clock.now()


PERIODIC_REVIEW_WORKFLOW = Workflow(
    record_type="periodic_review",
    states=("open", "no_change", "revision_started", "cancelled"),
    initial="open",
    labels={
        "no_change": "concluded: no change needed",
        "revision_started": "concluded: revision started",
    },
    retired_states=frozenset({"cancelled"}),
    transitions=(
        Transition(
            "conclude_no_change",
            "Conclude: no change needed",
            states("open"),
            "no_change",
            REVIEWERS,
            signature="Reviewed",
            reason_required=True,
            effects=(_review_concluded,),
        ),
        Transition(
            "start_revision",
            "Start a revision",
            states("open"),
            "revision_started",
            AUTHORS,
            reason_required=True,
            guards=(revision_linked,),
            effects=(_review_concluded,),
        ),
        Transition(
            "cancel",
            "Cancel the review",
            states("open"),
            "cancelled",
            roles("qa", "qualified_person", "system"),
            reason_required=True,
            effects=(_review_concluded,),
        ),
    ),
)

PERIODIC_REVIEW = register(
    RecordType(
        name="periodic_review",
        label="Periodic review",
        plural="Periodic reviews",
        model=PeriodicReview,
        workflow=PERIODIC_REVIEW_WORKFLOW,
        list_columns=(("number", "Number"), ("due_at", "Due"), ("status", "Status")),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("due_at", "Due"),
            ("overdue_flagged_at", "Flagged overdue"),
            ("concluded_at", "Concluded"),
        ),
        module="documents",
        detail_url=lambda r: f"/periodic-reviews/{r.id}",
    )
)
