"""The life of a periodic safety report: created and signed by the QPPV in one transaction
(draft exists only for that instant), then never changed. A new period, or a correction, is a
new report.

The QPPV (qualified person responsible for pharmacovigilance, EU GVP Module I) is a role of
its own: the one person accountable for the safety summaries submitted to authorities."""

from __future__ import annotations

from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.use.cases import workflow as _case_workflow  # noqa: F401 (the roles)
from pharmaqms.lifecycle.use.psur.models import PeriodicSafetyReport, ReportStatus

SIGNERS = ("qppv",)
grant("pv.psur", *SIGNERS)

PSUR_WORKFLOW = Workflow(
    record_type="pv_periodic_report",
    states=tuple(s.value for s in ReportStatus),
    initial=ReportStatus.DRAFT,
    transitions=(
        Transition(
            "sign",
            "QPPV signature of the periodic safety report",
            states("draft"),
            "signed",
            roles(*SIGNERS),
            signature="Approved",
        ),
    ),
)

PSUR = register(
    RecordType(
        name="pv_periodic_report",
        label="Periodic safety report",
        plural="Periodic safety reports",
        model=PeriodicSafetyReport,
        workflow=PSUR_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("product", "Product"),
            ("period_start", "From"),
            ("period_end", "To"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("product", "Product"),
            ("period_start", "Period start"),
            ("period_end", "Period end"),
            ("figures_sha256", "Figures SHA-256"),
            ("pdf_sha256", "PDF SHA-256"),
        ),
        module="pv",
        detail_url=lambda r: f"/pv/psur/reports/{r.id}",
        searchable=("number", "product"),
    )
)
