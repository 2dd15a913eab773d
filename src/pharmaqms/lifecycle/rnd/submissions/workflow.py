"""The life of a submission document, and who may do what.

draft (generated: content and PDF frozen) → reviewed (a second person's e-signature,
"Reviewed": a scientist, regulatory affairs or QA, never whoever generated it) → approved (QA's
e-signature, "Approved": never the author nor the reviewer; the PDF is re-rendered with the
signature page and stored). Reviewed can go back to draft with a reason, then it is reviewed
again. A later edition of the same kind, product and authority supersedes the live ones (an
approved one only once the later edition is approved)."""

from __future__ import annotations

from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import DEFAULT_ROLES, grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.rnd.submissions.models import SubmissionDocument, SubmissionStatus

# Regulatory affairs keeps the dossier (the gates module defines the role too; either may be
# imported first).
DEFAULT_ROLES.setdefault(
    "regulatory_affairs", ("Regulatory affairs (registration dossiers)", {"records.read"})
)

AUTHORS = ("rd_scientist", "regulatory_affairs")
REVIEWERS = ("rd_scientist", "regulatory_affairs", "qa")
APPROVERS = ("qa",)

grant("submissions.read", "rd_scientist", "regulatory_affairs", "qa", "qualified_person")
grant("submissions.write", *AUTHORS)
grant("submissions.review", *REVIEWERS)
grant("submissions.approve", *APPROVERS)

SUBMISSION_WORKFLOW = Workflow(
    record_type="rnd_submission",
    states=tuple(s.value for s in SubmissionStatus),
    initial=SubmissionStatus.DRAFT.value,
    retired_states=frozenset({SubmissionStatus.SUPERSEDED.value}),
    transitions=(
        Transition(
            "review",
            "Review the document",
            states("draft"),
            "reviewed",
            roles(*REVIEWERS),
            signature="Reviewed",
            forbid_author=True,
        ),
        Transition(
            "return",
            "Return for a new generation or review",
            states("reviewed"),
            "draft",
            roles(*REVIEWERS),
            reason_required=True,
        ),
        Transition(
            "approve",
            "Approve the document",
            states("reviewed"),
            "approved",
            roles(*APPROVERS),
            signature="Approved",
            forbid_author=True,
            forbid_signers_of=frozenset({"Reviewed"}),
        ),
        Transition(
            "supersede",
            "Supersede by a later edition",
            states("draft", "reviewed", "approved"),
            "superseded",
            roles(*AUTHORS, *APPROVERS),
            reason_required=True,
        ),
    ),
)

SUBMISSION = register(
    RecordType(
        name="rnd_submission",
        label="Submission document",
        plural="Submission documents",
        model=SubmissionDocument,
        workflow=SUBMISSION_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("kind", "Kind"),
            ("product_code", "Product"),
            ("authority", "Authority"),
            ("edition", "Edition"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("kind", "Kind"),
            ("product_code", "Product"),
            ("product_name", "Product name"),
            ("authority", "Authority"),
            ("edition", "Edition"),
            ("content_sha256", "Content SHA-256"),
            ("draft_pdf_sha256", "Generated PDF SHA-256"),
            ("pdf_sha256", "Approved PDF SHA-256"),
        ),
        module="rnd",
        detail_url=lambda r: f"/rnd/submissions/{r.id}",
        searchable=("number", "product_code"),
        read_permission="submissions.read",
    )
)
