"""Who may call each route of the JSON API (``/api/v1``): the API half of the access table."""

from __future__ import annotations

from pharmaqms.web.access.rules import (
    NAMED_TRANSITION,
    PUBLIC,
    SIGNED_IN,
    Access,
    Needs,
    Step,
)

APQR_READ = "read annual product quality reviews"
SUBMISSIONS_READ = "read submission documents"
PROCESS_ANALYTICS = "read process analytics"
CONFIG_READ = "read the configuration"

# (method, path as declared) → what the route needs.
API: dict[tuple[str, str], Access] = {
    # web.api.kernel
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/password"): PUBLIC,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("GET", "/api/v1/tasks"): SIGNED_IN,
    ("GET", "/api/v1/users"): Needs("users.read", "list users"),
    ("POST", "/api/v1/users"): Needs("users.manage", "add users"),
    ("POST", "/api/v1/users/{user_id}/deactivate"): Needs("users.manage", "deactivate users"),
    ("POST", "/api/v1/users/{user_id}/reactivate"): Needs("users.manage", "reactivate users"),
    ("POST", "/api/v1/users/{user_id}/unlock"): Needs("users.manage", "unlock accounts"),
    ("POST", "/api/v1/users/{user_id}/roles"): Needs("users.manage", "change roles"),
    ("POST", "/api/v1/users/{user_id}/reset-password"): Needs("users.manage", "reset passwords"),
    ("POST", "/api/v1/users/{user_id}/role-requests"): Needs("users.manage", "ask for roles"),
    ("GET", "/api/v1/role-requests"): Needs("users.read", "see role grant requests"),
    ("GET", "/api/v1/role-requests/{request_id}"): Needs("users.read", "see role grant requests"),
    ("POST", "/api/v1/role-requests/{request_id}/approve"): Needs(
        "users.manage", "decide on role grant requests"
    ),
    ("POST", "/api/v1/role-requests/{request_id}/reject"): Needs(
        "users.manage", "decide on role grant requests"
    ),
    ("POST", "/api/v1/role-requests/{request_id}/withdraw"): Needs(
        "users.manage", "decide on role grant requests"
    ),
    ("GET", "/api/v1/me/password-resets"): SIGNED_IN,
    ("POST", "/api/v1/me/password-resets/{reset_id}/confirm"): SIGNED_IN,
    ("POST", "/api/v1/me/password-resets/{reset_id}/dispute"): SIGNED_IN,
    ("POST", "/api/v1/users/{user_id}/tokens"): Needs("users.manage", "mint API tokens"),
    ("GET", "/api/v1/security/alerts"): Needs("users.read", "see security alerts"),
    ("GET", "/api/v1/audit"): Needs("records.read", "read the audit trail", narrower=True),
    ("GET", "/api/v1/records/{type_name}/{record_id}/audit"): Needs("records.read", "read records"),
    ("GET", "/api/v1/records/{type_name}/{record_id}"): Needs("records.read", "read records"),
    ("GET", "/api/v1/records/{type_name}/{record_id}/report.pdf"): Needs(
        "records.read", "read records", narrower=True
    ),
    ("GET", "/api/v1/records/{type_name}/{record_id}/signatures"): Needs(
        "records.read", "read records"
    ),
    ("GET", "/api/v1/records/{type_name}/{record_id}/transitions"): Needs(
        "records.read", "read records"
    ),
    ("POST", "/api/v1/records/{type_name}/{record_id}/transitions/{name}"): NAMED_TRANSITION,
    # quality.documents.api
    ("GET", "/api/v1/documents"): Needs("records.read", "read documents"),
    ("POST", "/api/v1/documents"): Needs("documents.author", "author documents"),
    ("GET", "/api/v1/documents/{document_id}"): Needs("records.read", "read documents"),
    ("POST", "/api/v1/documents/{document_id}/revisions"): Needs(
        "documents.author", "revise documents"
    ),
    ("GET", "/api/v1/document-versions/{version_id}"): Needs("records.read", "read documents"),
    ("PATCH", "/api/v1/document-versions/{version_id}"): Needs(
        "documents.author", "edit documents"
    ),
    ("GET", "/api/v1/document-versions/{version_id}/pdf"): Needs("records.read", "print documents"),
    ("GET", "/api/v1/document-templates/{doc_type}"): Needs("records.read", "read documents"),
    ("POST", "/api/v1/document-versions/{version_id}/reviewers"): Needs(
        "documents.author", "name the reviewers of documents"
    ),
    # The service refuses whoever is not a named reviewer of the version.
    ("POST", "/api/v1/document-versions/{version_id}/reviews"): Needs(
        "documents.review", "review documents"
    ),
    ("POST", "/api/v1/document-versions/{version_id}/attachments"): Needs(
        "documents.author", "attach files to documents"
    ),
    ("GET", "/api/v1/document-attachments/{attachment_id}"): Needs(
        "records.read", "read documents"
    ),
    ("GET", "/api/v1/documents/{document_id}/compare"): Needs("records.read", "read documents"),
    ("GET", "/api/v1/periodic-reviews/schedule"): Needs(
        "records.read", "read the periodic review register"
    ),
    ("GET", "/api/v1/documents/{document_id}/periodic-reviews"): Needs(
        "records.read", "read documents"
    ),
    ("GET", "/api/v1/periodic-reviews/{review_id}"): Needs("records.read", "read documents"),
    ("POST", "/api/v1/periodic-reviews/{review_id}/conclude-no-change"): Step(
        "periodic_review", "conclude_no_change"
    ),
    ("POST", "/api/v1/periodic-reviews/{review_id}/start-revision"): Step(
        "periodic_review", "start_revision"
    ),
    # quality.training.competence.api
    ("POST", "/api/v1/training/job-roles/{job_role_id}/qualification-requirements"): Needs(
        "training.manage", "define what job roles require"
    ),
    ("POST", "/api/v1/training/qualification-requirements/{requirement_id}/retire"): Needs(
        "training.manage", "define what job roles require"
    ),
    ("GET", "/api/v1/training/authorisations"): Needs(
        "records.read", "read the authorisation register"
    ),
    ("POST", "/api/v1/training/authorisations"): Needs(
        "training.authorise", "grant authorisations"
    ),
    ("GET", "/api/v1/training/authorisations/{authorisation_id}"): Needs(
        "records.read", "read authorisations"
    ),
    ("GET", "/api/v1/training/authorisations/{authorisation_id}/basis"): Needs(
        "records.read", "read authorisations"
    ),
    ("POST", "/api/v1/training/authorisations/{authorisation_id}/revoke"): Needs(
        "training.authorise", "revoke authorisations"
    ),
    ("POST", "/api/v1/training/assessments/quiz"): Step("training_assessment", "attest_quiz"),
    ("POST", "/api/v1/training/assessments/observed"): Needs(
        "training.assess", "record observed practice"
    ),
    ("GET", "/api/v1/training/qualification"): Needs(
        "records.read", "read the qualification matrix"
    ),
    ("GET", "/api/v1/training/qualification/people/{user_id}"): Needs(
        "records.read", "read qualifications"
    ),
    ("GET", "/api/v1/training/effectiveness"): Needs(
        "records.read", "read the training-effectiveness figures"
    ),
    # quality.training.api
    ("GET", "/api/v1/training/job-roles"): Needs("records.read", "read job roles"),
    ("POST", "/api/v1/training/job-roles"): Needs("training.manage", "define job roles"),
    ("GET", "/api/v1/training/job-roles/{job_role_id}"): Needs("records.read", "read job roles"),
    ("POST", "/api/v1/training/job-roles/{job_role_id}/curricula"): Needs(
        "training.manage", "define curricula"
    ),
    ("POST", "/api/v1/training/curricula/{curriculum_id}/items"): Needs(
        "training.manage", "change curricula"
    ),
    ("POST", "/api/v1/training/curriculum-items/{item_id}/remove"): Needs(
        "training.manage", "change curricula"
    ),
    ("POST", "/api/v1/training/job-roles/{job_role_id}/holders"): Needs(
        "training.manage", "assign job roles"
    ),
    ("POST", "/api/v1/training/job-role-assignments/{assignment_id}/end"): Needs(
        "training.manage", "end job roles"
    ),
    ("PUT", "/api/v1/training/quizzes/{document_id}"): Needs("training.manage", "write quizzes"),
    ("GET", "/api/v1/training/quizzes/{document_id}"): Needs("records.read", "read quizzes"),
    ("GET", "/api/v1/training/my"): SIGNED_IN,
    ("GET", "/api/v1/training/people/{user_id}/requirements"): Needs(
        "records.read", "read training records"
    ),
    ("POST", "/api/v1/training/requirements"): Needs("training.manage", "assign training"),
    ("GET", "/api/v1/training/requirements/{requirement_id}"): Needs(
        "records.read", "read training records"
    ),
    # Only the trainee opens their own training (the service refuses anyone else).
    ("POST", "/api/v1/training/requirements/{requirement_id}/open"): Step(
        "training_requirement", "complete"
    ),
    ("POST", "/api/v1/training/requirements/{requirement_id}/complete"): Step(
        "training_requirement", "complete"
    ),
    ("GET", "/api/v1/training/matrix"): Needs("records.read", "read the training matrix"),
    ("GET", "/api/v1/training/check"): Needs("records.read", "check training"),
    ("GET", "/api/v1/training/governing"): Needs("records.read", "read the governing documents"),
    ("POST", "/api/v1/training/governing"): Needs(
        "training.manage", "decide which documents govern which steps"
    ),
    ("POST", "/api/v1/training/governing/{rule_id}/retire"): Needs(
        "training.manage", "decide which documents govern which steps"
    ),
    # quality.deviations.api
    ("GET", "/api/v1/deviations"): Needs("records.read", "read deviations"),
    ("GET", "/api/v1/deviations/trend"): Needs("records.read", "read deviation trends"),
    ("POST", "/api/v1/deviations"): Needs("deviations.report", "report deviations"),
    ("GET", "/api/v1/deviations/{deviation_id}"): Needs("records.read", "read deviations"),
    ("PATCH", "/api/v1/deviations/{deviation_id}"): Needs(
        "deviations.report", "change deviation reports"
    ),
    ("POST", "/api/v1/deviations/{deviation_id}/classification"): Needs(
        "deviations.manage", "classify deviations"
    ),
    ("POST", "/api/v1/deviations/{deviation_id}/investigation"): Needs(
        "deviations.investigate", "investigate deviations"
    ),
    ("POST", "/api/v1/deviations/{deviation_id}/no-capa"): Needs(
        "deviations.investigate", "investigate deviations"
    ),
    ("POST", "/api/v1/deviations/{deviation_id}/batches"): Needs(
        "deviations.report", "name batches affected by deviations"
    ),
    ("POST", "/api/v1/deviations/{deviation_id}/batches/{batch_ref_id}/assessment"): Needs(
        "deviations.investigate", "assess batch impact"
    ),
    ("POST", "/api/v1/deviations/{deviation_id}/batches/{batch_ref_id}/disposition"): Needs(
        "deviations.disposition", "decide on batch dispositions"
    ),
    ("POST", "/api/v1/deviations/{deviation_id}/extensions"): Needs(
        "deviations.investigate",
        "request an extension of a deviation",
        alternatives=("deviations.manage",),
    ),
    ("POST", "/api/v1/deviations/{deviation_id}/extensions/{extension_id}/decision"): Needs(
        "deviations.manage", "decide on extension requests"
    ),
    # quality.capa.api
    ("GET", "/api/v1/capas"): Needs("records.read", "read CAPAs"),
    ("GET", "/api/v1/capas/register"): Needs("records.read", "read the CAPA register"),
    ("GET", "/api/v1/capas/on-time-rate"): Needs("records.read", "read CAPA statistics"),
    ("POST", "/api/v1/capas"): Needs("capa.raise", "raise CAPAs"),
    ("GET", "/api/v1/capas/{capa_id}"): Needs("records.read", "read CAPAs"),
    ("PATCH", "/api/v1/capas/{capa_id}"): Needs("capa.manage", "work on CAPAs"),
    ("POST", "/api/v1/capas/{capa_id}/actions"): Needs("capa.manage", "work on CAPAs"),
    ("POST", "/api/v1/capas/{capa_id}/actions/{action_id}/completion"): Needs(
        "capa.manage", "complete CAPA actions"
    ),
    ("POST", "/api/v1/capas/{capa_id}/actions/{action_id}/cancellation"): Needs(
        "capa.manage", "work on CAPAs"
    ),
    ("POST", "/api/v1/capas/{capa_id}/effectiveness-plan"): Needs("capa.manage", "work on CAPAs"),
    ("GET", "/api/v1/capas/{capa_id}/effectiveness-templates"): Needs("records.read", "read CAPAs"),
    ("POST", "/api/v1/capas/{capa_id}/effectiveness-result"): Needs(
        "capa.approve", "verify the effectiveness of CAPAs"
    ),
    # quality.changes.api
    ("GET", "/api/v1/changes"): Needs("records.read", "read change requests"),
    ("POST", "/api/v1/changes"): Needs("changes.request", "request changes"),
    ("GET", "/api/v1/changes/{change_id}"): Needs("records.read", "read change requests"),
    # Its requester or owner edits it; QA (changes.assess) edits anyone's.
    ("PATCH", "/api/v1/changes/{change_id}"): Needs(
        "changes.request",
        "change change requests",
        alternatives=("changes.implement", "changes.assess"),
    ),
    ("POST", "/api/v1/changes/{change_id}/impact-assessment"): Needs(
        "changes.assess", "assess the impact of changes"
    ),
    ("POST", "/api/v1/changes/{change_id}/decisions"): Needs("changes.approve", "approve changes"),
    ("POST", "/api/v1/changes/{change_id}/actions"): Needs(
        "changes.assess", "plan the tasks of someone else's change"
    ),
    ("POST", "/api/v1/changes/{change_id}/actions/{action_id}/completion"): Needs(
        "changes.implement", "complete implementation tasks"
    ),
    ("POST", "/api/v1/changes/{change_id}/affected"): Needs(
        "changes.request", "name what a change affects"
    ),
    ("POST", "/api/v1/changes/{change_id}/affected/{item_id}/removal"): Needs(
        "changes.request", "name what a change affects"
    ),
    ("POST", "/api/v1/changes/{change_id}/authority-approval"): Needs(
        "changes.assess", "record the authority's approval of changes"
    ),
    ("GET", "/api/v1/changes/{change_id}/regulatory-files/{kind}"): Needs(
        "records.read", "read change requests"
    ),
    ("POST", "/api/v1/changes/{change_id}/submission"): Needs(
        "changes.implement", "record the regulatory submission of changes"
    ),
    ("POST", "/api/v1/changes/{change_id}/effectiveness-review"): Needs(
        "changes.assess", "review the effectiveness of changes"
    ),
    # lifecycle.use.cases.api
    ("GET", "/api/v1/pv/cases"): Needs("records.read", "read cases"),
    ("POST", "/api/v1/pv/cases"): Needs("pv.intake", "take in adverse event reports"),
    ("GET", "/api/v1/pv/cases/{case_id}"): Needs("records.read", "read cases"),
    ("POST", "/api/v1/pv/cases/{case_id}/follow-ups"): Needs(
        "pv.intake", "record follow-up information"
    ),
    ("POST", "/api/v1/pv/cases/{case_id}/validate"): Step("pv_case", "validate"),
    ("POST", "/api/v1/pv/cases/{case_id}/invalidate"): Step("pv_case", "invalidate"),
    ("POST", "/api/v1/pv/cases/{case_id}/assessment"): Needs("pv.review", "assess cases"),
    ("POST", "/api/v1/pv/cases/{case_id}/medical-review"): Step("pv_case", "medical_review"),
    ("POST", "/api/v1/pv/cases/{case_id}/sign-off"): Step("pv_case", "sign_off"),
    ("GET", "/api/v1/pv/cases/{case_id}/duplicates"): Needs("records.read", "read cases"),
    ("GET", "/api/v1/pv/cases/{case_id}/e2b.xml"): Needs("pv.export", "export cases as E2B(R3)"),
    ("POST", "/api/v1/pv/cases/{case_id}/merge"): Step("pv_case", "mark_duplicate"),
    ("GET", "/api/v1/pv/reference-safety-information"): Needs(
        "records.read", "read the reference safety information"
    ),
    ("PUT", "/api/v1/pv/reference-safety-information"): Needs(
        "pv.reference", "maintain reference safety information"
    ),
    ("GET", "/api/v1/pv/clock-rules"): Needs("records.read", "read the reporting rules"),
    # lifecycle.use.lots.api
    ("GET", "/api/v1/pv/lot-signals"): Needs("records.read", "read lot signals"),
    ("GET", "/api/v1/pv/lots/{lot_id}"): Needs("records.read", "read the lot safety review"),
    ("POST", "/api/v1/pv/lots/{lot_id}/capa"): Needs("capa.raise", "raise CAPAs"),
    # lifecycle.use.psur.api and lifecycle.use.risk.api
    ("GET", "/api/v1/pv/psur"): Needs("records.read", "read periodic safety summaries"),
    ("GET", "/api/v1/pv/psur/draft.pdf"): Needs("records.read", "read periodic safety summaries"),
    ("POST", "/api/v1/pv/psur/reports"): Needs("pv.psur", "sign periodic safety reports"),
    ("GET", "/api/v1/pv/psur/reports"): Needs("records.read", "read periodic safety reports"),
    ("GET", "/api/v1/pv/psur/reports/{report_id}"): Needs(
        "records.read", "read periodic safety reports"
    ),
    ("GET", "/api/v1/pv/psur/reports/{report_id}/pdf"): Needs(
        "records.read", "read periodic safety reports"
    ),
    ("GET", "/api/v1/pv/risk-factors"): Needs("records.read", "read risk-factor analyses"),
    # lifecycle.use.signals.api
    ("GET", "/api/v1/pv/signals"): Needs("records.read", "read signals"),
    ("POST", "/api/v1/pv/signals"): Needs("signals.detect", "raise signals"),
    ("POST", "/api/v1/pv/signals/from-lot"): Needs("signals.detect", "raise signals"),
    ("POST", "/api/v1/pv/signals/detection"): Needs("signals.detect", "run signal detection"),
    ("GET", "/api/v1/pv/signals/pairs"): Needs("records.read", "read the disproportionality table"),
    ("GET", "/api/v1/pv/signals/{signal_id}"): Needs("records.read", "read signals"),
    ("POST", "/api/v1/pv/signals/{signal_id}/validate"): Step("pv_signal", "validate"),
    ("POST", "/api/v1/pv/signals/{signal_id}/refute"): Step("pv_signal", "refute"),
    ("POST", "/api/v1/pv/signals/{signal_id}/assessment"): Needs(
        "signals.assess", "assess signals"
    ),
    ("POST", "/api/v1/pv/signals/{signal_id}/actions"): Needs(
        "signals.act", "take action on signals"
    ),
    ("POST", "/api/v1/pv/signals/{signal_id}/close"): Step("pv_signal", "close"),
    # quality.complaints.api
    ("GET", "/api/v1/complaints"): Needs("records.read", "read complaints"),
    ("GET", "/api/v1/complaints/trend"): Needs("records.read", "read complaint trends"),
    ("POST", "/api/v1/complaints"): Needs("complaints.register", "register complaints"),
    ("GET", "/api/v1/complaints/{complaint_id}"): Needs("records.read", "read complaints"),
    ("POST", "/api/v1/complaints/{complaint_id}/triage"): Needs(
        "complaints.manage", "triage complaints"
    ),
    ("POST", "/api/v1/complaints/{complaint_id}/pv-acknowledgement"): Needs(
        "complaints.pv_handover", "acknowledge adverse event handovers"
    ),
    ("POST", "/api/v1/complaints/{complaint_id}/investigation"): Needs(
        "complaints.investigate", "investigate complaints"
    ),
    ("POST", "/api/v1/complaints/{complaint_id}/response"): Needs(
        "complaints.manage", "respond to complainants"
    ),
    # quality.risk.api
    ("GET", "/api/v1/risk-matrices"): Needs("records.read", "read risk matrices"),
    ("GET", "/api/v1/risk-matrix"): Needs("records.read", "read the risk matrix in force"),
    ("GET", "/api/v1/risk-assessments"): Needs("records.read", "read risk assessments"),
    ("POST", "/api/v1/risk-assessments"): Needs("risk.assess", "assess risks"),
    ("GET", "/api/v1/risk-assessments/{assessment_id}"): Needs(
        "records.read", "read risk assessments"
    ),
    ("POST", "/api/v1/risk-assessments/{assessment_id}/items"): Needs(
        "risk.assess", "edit risk assessments"
    ),
    ("PUT", "/api/v1/risk-assessments/{assessment_id}/items/{item_id}"): Needs(
        "risk.assess", "edit risk assessments"
    ),
    ("POST", "/api/v1/risk-assessments/{assessment_id}/items/{item_id}/retirement"): Needs(
        "risk.assess", "edit risk assessments"
    ),
    ("POST", "/api/v1/risk-assessments/{assessment_id}/acceptance"): Needs(
        "risk.assess", "edit risk assessments"
    ),
    # quality.api
    ("GET", "/api/v1/quality-links"): Needs("records.read", "read quality links"),
    ("POST", "/api/v1/quality-links"): Needs(
        "deviations.investigate", "link quality records", alternatives=("capa.manage",)
    ),
    # lifecycle.production.materials.api
    ("GET", "/api/v1/production/supplier-approvals"): Needs(
        "records.read", "read the approved supplier list"
    ),
    ("POST", "/api/v1/production/supplier-approvals"): Needs(
        "materials.manage", "maintain the approved supplier list"
    ),
    ("GET", "/api/v1/production/supplier-approvals/{approval_id}"): Needs(
        "records.read", "read the approved supplier list"
    ),
    ("POST", "/api/v1/production/supplier-approvals/{approval_id}/audits"): Needs(
        "materials.manage", "maintain the approved supplier list"
    ),
    ("POST", "/api/v1/production/materials/{material_code}/gtin"): Needs(
        "data.manage", "maintain master data"
    ),
    ("GET", "/api/v1/production/material-lots"): Needs("records.read", "read material lots"),
    ("POST", "/api/v1/production/material-lots"): Needs(
        "materials.receive", "receive material lots"
    ),
    ("GET", "/api/v1/production/material-lots/{lot_id}/use-check"): Needs(
        "records.read", "check material lots"
    ),
    ("POST", "/api/v1/production/material-lots/{lot_id}/certificates"): Needs(
        "materials.certificates", "file supplier certificates"
    ),
    ("POST", "/api/v1/production/material-lots/{lot_id}/certificates/file"): Needs(
        "materials.certificates", "file supplier certificates"
    ),
    ("GET", "/api/v1/production/material-lots/{lot_id}/certificates"): Needs(
        "records.read", "read supplier certificates"
    ),
    ("GET", "/api/v1/production/supplier-certificates/{certificate_id}/file"): Needs(
        "records.read", "read supplier certificates"
    ),
    ("POST", "/api/v1/production/material-lots/{lot_id}/overrides"): Needs(
        "materials.override", "override the material checks"
    ),
    ("POST", "/api/v1/production/scan"): Needs("records.read", "scan containers"),
    # lifecycle.production.qc.api
    ("GET", "/api/v1/production/qc/specifications"): Needs(
        "records.read", "read QC specifications"
    ),
    ("POST", "/api/v1/production/qc/specifications"): Needs(
        "qc.specifications", "write QC specifications"
    ),
    ("GET", "/api/v1/production/qc/specifications/{spec_id}"): Needs(
        "records.read", "read QC specifications"
    ),
    ("PATCH", "/api/v1/production/qc/specifications/{spec_id}"): Needs(
        "qc.specifications", "write QC specifications"
    ),
    ("POST", "/api/v1/production/qc/specifications/{spec_id}/revisions"): Needs(
        "qc.specifications", "revise QC specifications"
    ),
    ("POST", "/api/v1/production/qc/results"): Needs("qc.results", "record QC results"),
    ("GET", "/api/v1/production/qc/results/{result_id}"): Needs("records.read", "read QC results"),
    ("POST", "/api/v1/production/qc/results/{result_id}/trend-assessment"): Needs(
        "qc.investigate", "assess out-of-trend results"
    ),
    ("POST", "/api/v1/production/qc/lims-results/evaluate"): Needs(
        "qc.results", "evaluate LIMS results"
    ),
    ("GET", "/api/v1/production/qc/lots/{lot_id}/results"): Needs(
        "records.read", "read QC results"
    ),
    ("GET", "/api/v1/production/qc/lots/{lot_id}/status"): Needs("records.read", "read QC status"),
    ("GET", "/api/v1/production/qc/investigations"): Needs(
        "records.read", "read OOS investigations"
    ),
    ("GET", "/api/v1/production/qc/investigations/{investigation_id}"): Needs(
        "records.read", "read OOS investigations"
    ),
    ("POST", "/api/v1/production/qc/investigations/{investigation_id}/phase-1"): Needs(
        "qc.investigate", "investigate OOS results"
    ),
    ("PATCH", "/api/v1/production/qc/investigations/{investigation_id}/phase-2"): Needs(
        "qc.investigate", "investigate OOS results"
    ),
    ("POST", "/api/v1/production/qc/investigations/{investigation_id}/retests"): Needs(
        "qc.results", "record QC results"
    ),
    ("POST", "/api/v1/production/qc/certificates"): Needs(
        "qc.certificates", "prepare certificates of analysis"
    ),
    ("GET", "/api/v1/production/qc/certificates/{certificate_id}"): Needs(
        "records.read", "read certificates of analysis"
    ),
    ("GET", "/api/v1/production/qc/certificates/{certificate_id}/pdf"): Needs(
        "records.read", "print certificates of analysis"
    ),
    # lifecycle.production.nonconforming.api
    ("GET", "/api/v1/production/nonconformances"): Needs(
        "records.read", "read nonconforming product records"
    ),
    ("POST", "/api/v1/production/nonconformances"): Needs(
        "nonconformance.report", "report nonconforming product"
    ),
    ("GET", "/api/v1/production/nonconformances/{nc_id}"): Needs(
        "records.read", "read nonconforming product records"
    ),
    ("POST", "/api/v1/production/nonconformances/{nc_id}/disposition"): Needs(
        "nonconformance.disposition", "propose dispositions"
    ),
    ("POST", "/api/v1/production/nonconformances/{nc_id}/execution"): Needs(
        "nonconformance.disposition", "record the execution of dispositions"
    ),
    ("POST", "/api/v1/production/nonconformances/from-deviation/{deviation_id}"): Needs(
        "nonconformance.report", "open nonconforming product records"
    ),
    # lifecycle.production.monitoring.api
    ("GET", "/api/v1/production/monitoring/parameters"): Needs(
        "records.read", "read monitored parameters"
    ),
    ("POST", "/api/v1/production/monitoring/parameters"): Needs(
        "spc.configure", "define monitored parameters"
    ),
    ("GET", "/api/v1/production/monitoring/parameters/{parameter_id}"): Needs(
        "records.read", "read monitored parameters"
    ),
    ("POST", "/api/v1/production/monitoring/parameters/{parameter_id}/configuration"): Needs(
        "spc.configure", "configure monitored parameters"
    ),
    ("POST", "/api/v1/production/monitoring/parameters/{parameter_id}/limits"): Needs(
        "spc.estimate", "estimate control limits"
    ),
    ("GET", "/api/v1/production/monitoring/parameters/{parameter_id}/limits"): Needs(
        "records.read", "read control limits"
    ),
    ("GET", "/api/v1/production/monitoring/parameters/{parameter_id}/chart"): Needs(
        "records.read", "read control charts"
    ),
    ("GET", "/api/v1/production/monitoring/parameters/{parameter_id}/chart.svg"): Needs(
        "records.read", "read control charts"
    ),
    ("GET", "/api/v1/production/monitoring/parameters/{parameter_id}/capability"): Needs(
        "records.read", "read process capability"
    ),
    ("GET", "/api/v1/production/monitoring/parameters/{parameter_id}/capability-trend"): Needs(
        "records.read", "read process capability"
    ),
    ("GET", "/api/v1/production/monitoring/groups"): Needs("records.read", "read T² groups"),
    ("POST", "/api/v1/production/monitoring/groups"): Needs("spc.configure", "define T² groups"),
    ("GET", "/api/v1/production/monitoring/groups/{group_id}"): Needs(
        "records.read", "read T² groups"
    ),
    ("POST", "/api/v1/production/monitoring/groups/{group_id}/limits"): Needs(
        "spc.estimate", "estimate T² limits"
    ),
    ("GET", "/api/v1/production/monitoring/groups/{group_id}/chart.svg"): Needs(
        "records.read", "read control charts"
    ),
    ("GET", "/api/v1/production/monitoring/alerts"): Needs("records.read", "read SPC alerts"),
    ("GET", "/api/v1/production/monitoring/alerts/{alert_id}"): Needs(
        "records.read", "read SPC alerts"
    ),
    ("POST", "/api/v1/production/monitoring/alerts/{alert_id}/acknowledge"): Step(
        "process_alert", "acknowledge"
    ),
    ("POST", "/api/v1/production/monitoring/alerts/{alert_id}/escalate"): Step(
        "process_alert", "escalate"
    ),
    # lifecycle.distribution.api
    ("GET", "/api/v1/distribution/profiles"): Needs("records.read", "read alarm profiles"),
    ("POST", "/api/v1/distribution/profiles"): Needs(
        "coldchain.configure", "set cold-chain alarm profiles"
    ),
    ("GET", "/api/v1/distribution/alarms"): Needs("records.read", "read cold-chain alarms"),
    ("GET", "/api/v1/distribution/alarms/{alarm_id}"): Needs(
        "records.read", "read cold-chain alarms"
    ),
    ("POST", "/api/v1/distribution/alarms/{alarm_id}/acknowledge"): Step(
        "coldchain_alarm", "acknowledge"
    ),
    ("POST", "/api/v1/distribution/alarms/{alarm_id}/assess"): Step("coldchain_alarm", "assess"),
    ("POST", "/api/v1/distribution/alarms/{alarm_id}/close"): Step("coldchain_alarm", "close"),
    ("GET", "/api/v1/distribution/excursions"): Needs("records.read", "read excursions"),
    ("GET", "/api/v1/distribution/excursions/{excursion_id}"): Needs(
        "records.read", "read excursions"
    ),
    ("POST", "/api/v1/distribution/excursions/{excursion_id}/lots"): Needs(
        "coldchain.assess", "name the lots of an excursion"
    ),
    ("POST", "/api/v1/distribution/excursions/{excursion_id}/assessment"): Needs(
        "coldchain.assess", "assess excursions"
    ),
    ("POST", "/api/v1/distribution/products/{product_code}/stability-budget"): Needs(
        "coldchain.assess", "enter stability budgets"
    ),
    ("GET", "/api/v1/distribution/kpi"): Needs("records.read", "read the distribution KPIs"),
    ("GET", "/api/v1/distribution/lots/{lot_id}/budget"): Needs(
        "records.read", "read stability budgets"
    ),
    # lifecycle.production.batchrecords.api
    ("GET", "/api/v1/production/equipment"): Needs("records.read", "read the equipment register"),
    ("POST", "/api/v1/production/equipment"): Needs(
        "equipment.manage", "maintain the equipment register"
    ),
    ("POST", "/api/v1/production/equipment/{equipment_id}/calibrations"): Needs(
        "equipment.manage", "record calibrations"
    ),
    ("POST", "/api/v1/production/equipment/{equipment_id}/qualifications"): Needs(
        "equipment.manage", "record qualifications"
    ),
    ("GET", "/api/v1/production/masters"): Needs("records.read", "read master batch records"),
    ("POST", "/api/v1/production/masters"): Needs(
        "batchrecords.masters", "define master batch records"
    ),
    ("GET", "/api/v1/production/masters/{master_id}"): Needs(
        "records.read", "read master batch records"
    ),
    ("PATCH", "/api/v1/production/masters/{master_id}"): Needs(
        "batchrecords.masters", "edit master batch records"
    ),
    ("POST", "/api/v1/production/masters/{master_id}/revisions"): Needs(
        "batchrecords.masters", "revise master batch records"
    ),
    ("GET", "/api/v1/production/batch-records"): Needs("records.read", "read batch records"),
    ("POST", "/api/v1/production/batch-records"): Needs("batchrecords.open", "open batch records"),
    ("GET", "/api/v1/production/batch-records/{record_id}"): Needs(
        "records.read", "read batch records"
    ),
    ("POST", "/api/v1/production/batch-records/{record_id}/complete"): Needs(
        "batchrecords.open", "complete batch records"
    ),
    ("GET", "/api/v1/production/batch-steps/{step_id}"): Needs(
        "records.read", "read batch records"
    ),
    ("POST", "/api/v1/production/batch-steps/{step_id}/start"): Needs(
        "batchrecords.execute", "execute batch record steps"
    ),
    ("POST", "/api/v1/production/batch-steps/{step_id}/materials"): Needs(
        "batchrecords.execute", "record batch record entries"
    ),
    ("POST", "/api/v1/production/batch-steps/{step_id}/values"): Needs(
        "batchrecords.execute", "record batch record entries"
    ),
    ("POST", "/api/v1/production/batch-steps/{step_id}/readings"): Needs(
        "batchrecords.execute", "record batch record entries"
    ),
    ("POST", "/api/v1/production/batch-steps/{step_id}/equipment"): Needs(
        "batchrecords.execute", "record batch record entries"
    ),
    ("POST", "/api/v1/production/batch-step-entries/{entry_id}/corrections"): Needs(
        "batchrecords.execute", "correct batch record entries"
    ),
    ("POST", "/api/v1/production/batch-steps/{step_id}/perform"): Needs(
        "batchrecords.execute", "sign batch record steps"
    ),
    ("POST", "/api/v1/production/batch-steps/{step_id}/verify"): Needs(
        "batchrecords.execute", "verify batch record steps"
    ),
    ("POST", "/api/v1/production/batch-steps/{step_id}/deviations"): Needs(
        "batchrecords.execute", "raise deviations from batch record steps"
    ),
    ("GET", "/api/v1/production/batch-records/{record_id}/exceptions"): Needs(
        "records.read", "read batch record exceptions"
    ),
    ("POST", "/api/v1/production/batch-record-exceptions/{exception_id}/review"): Needs(
        "batchrecords.review", "review batch record exceptions"
    ),
    ("POST", "/api/v1/production/batch-record-exceptions/{exception_id}/deviation"): Needs(
        "batchrecords.review", "raise deviations from batch record exceptions"
    ),
    # lifecycle.production.release.api
    ("GET", "/api/v1/production/release/queue"): Needs("records.read", "read the release queue"),
    ("GET", "/api/v1/production/batches/{lot_id}/release"): Needs(
        "records.read", "read release checklists"
    ),
    ("POST", "/api/v1/production/batches/{lot_id}/release"): Needs(
        "release.decide", "release batches"
    ),
    ("POST", "/api/v1/production/batches/{lot_id}/reject"): Needs(
        "release.decide", "reject batches"
    ),
    ("GET", "/api/v1/production/batches/{lot_id}/release-certificate.pdf"): Needs(
        "records.read", "print release certificates"
    ),
    # lifecycle.production.kpi.api
    ("GET", "/api/v1/production/kpi"): Needs("records.read", "read the production KPIs"),
    # lifecycle.rnd.submissions.api
    ("GET", "/api/v1/rnd/submissions"): Needs("submissions.read", SUBMISSIONS_READ),
    ("POST", "/api/v1/rnd/submissions"): Needs(
        "submissions.write", "generate submission documents"
    ),
    ("GET", "/api/v1/rnd/submissions/{document_id}"): Needs("submissions.read", SUBMISSIONS_READ),
    ("POST", "/api/v1/rnd/submissions/{document_id}/review"): Needs(
        "submissions.review", "review submission documents"
    ),
    ("POST", "/api/v1/rnd/submissions/{document_id}/return"): Needs(
        "submissions.review", "return submission documents"
    ),
    ("POST", "/api/v1/rnd/submissions/{document_id}/approve"): Needs(
        "submissions.approve", "approve submission documents"
    ),
    ("GET", "/api/v1/rnd/submissions/{document_id}/pdf"): Needs(
        "submissions.read", SUBMISSIONS_READ
    ),
    # lifecycle.rnd.stability.api
    ("GET", "/api/v1/rnd/stability/studies"): Needs("stability.read", "read stability studies"),
    ("POST", "/api/v1/rnd/stability/studies"): Needs(
        "stability.write", "write stability protocols"
    ),
    ("GET", "/api/v1/rnd/stability/studies/{study_id}"): Needs(
        "stability.read", "read stability studies"
    ),
    ("POST", "/api/v1/rnd/stability/studies/{study_id}/results"): Needs(
        "stability.results", "record stability results"
    ),
    ("GET", "/api/v1/rnd/stability/studies/{study_id}/shelf-life"): Needs(
        "stability.read", "read stability studies"
    ),
    ("POST", "/api/v1/rnd/stability/studies/{study_id}/stability-budget"): Needs(
        "stability.budget", "put stability budgets in force"
    ),
    # lifecycle.rnd.gates.api
    ("GET", "/api/v1/rnd/plans"): Needs("records.read", "read R&D stage gates"),
    ("POST", "/api/v1/rnd/projects/{project_id}/plan"): Needs("rnd.gates", "plan R&D projects"),
    ("GET", "/api/v1/rnd/projects/{project_id}/gates"): Needs(
        "records.read", "read R&D stage gates"
    ),
    ("POST", "/api/v1/rnd/projects/{project_id}/gates"): Needs("rnd.gates", "open stage gates"),
    ("GET", "/api/v1/rnd/gates/{gate_id}"): Needs("records.read", "read R&D stage gates"),
    ("PATCH", "/api/v1/rnd/gates/{gate_id}"): Needs("rnd.gates", "edit stage gates"),
    ("POST", "/api/v1/rnd/gates/{gate_id}/evidence"): Needs("rnd.gates", "collect gate evidence"),
    ("POST", "/api/v1/rnd/evidence/{evidence_id}/withdraw"): Needs(
        "rnd.gates", "collect gate evidence"
    ),
    ("POST", "/api/v1/rnd/gates/{gate_id}/submit"): Needs("rnd.gates", "submit stage gates"),
    ("POST", "/api/v1/rnd/gates/{gate_id}/approve"): Needs(
        "rnd.gates.approve", "approve stage gates"
    ),
    ("POST", "/api/v1/rnd/gates/{gate_id}/return"): Needs(
        "rnd.gates.approve", "return stage gates"
    ),
    ("GET", "/api/v1/rnd/kpi/time-to-launch"): Needs("records.read", "read the R&D KPIs"),
    # lifecycle.rnd.eln.api
    ("GET", "/api/v1/rnd/projects"): Needs("rnd.read", "read R&D projects"),
    ("POST", "/api/v1/rnd/projects"): Needs("rnd.manage", "set up R&D projects"),
    ("GET", "/api/v1/rnd/projects/{project_id}"): Needs("rnd.read", "read R&D projects"),
    ("GET", "/api/v1/rnd/templates"): Needs("rnd.read", "read experiment templates"),
    ("POST", "/api/v1/rnd/templates"): Needs("rnd.manage", "set up experiment templates"),
    ("POST", "/api/v1/rnd/experiments"): Needs("rnd.write", "start experiments"),
    ("GET", "/api/v1/rnd/experiments/{experiment_id}"): Needs("rnd.read", "read the notebook"),
    ("POST", "/api/v1/rnd/experiments/{experiment_id}/entries"): Needs(
        "rnd.write", "write notebook entries"
    ),
    ("PATCH", "/api/v1/rnd/entries/{entry_id}"): Needs("rnd.write", "write notebook entries"),
    ("POST", "/api/v1/rnd/entries/{entry_id}/files"): Needs("rnd.write", "attach raw data files"),
    ("POST", "/api/v1/rnd/entries/{entry_id}/sign"): Needs("rnd.write", "sign notebook entries"),
    ("POST", "/api/v1/rnd/entries/{entry_id}/witness"): Needs(
        "rnd.witness", "witness notebook entries"
    ),
    ("GET", "/api/v1/rnd/entries/{entry_id}/verify"): Needs("rnd.read", "check notebook entries"),
    ("GET", "/api/v1/rnd/files/{file_id}"): Needs("rnd.read", "read raw data files"),
    ("POST", "/api/v1/rnd/experiments/{experiment_id}/disclosure"): Needs(
        "rnd.disclose", "disclose notebook entries"
    ),
    # lifecycle.distribution.recalls.api
    ("POST", "/api/v1/distribution/recalls"): Needs("recalls.coordinate", "open recalls"),
    ("GET", "/api/v1/distribution/recalls"): Needs("records.read", "read recalls"),
    ("GET", "/api/v1/distribution/recalls/{recall_id}"): Needs("records.read", "read recalls"),
    ("POST", "/api/v1/distribution/recalls/{recall_id}/approve"): Needs(
        "recalls.decide", "approve recalls"
    ),
    ("POST", "/api/v1/distribution/recalls/{recall_id}/notify"): Needs(
        "recalls.coordinate", "notify recalls"
    ),
    ("POST", "/api/v1/distribution/recalls/{recall_id}/close"): Needs(
        "recalls.decide", "close recalls"
    ),
    ("POST", "/api/v1/distribution/recalls/{recall_id}/cancel"): Needs(
        "recalls.decide", "cancel recalls"
    ),
    (
        "POST",
        "/api/v1/distribution/recalls/{recall_id}/notifications/{notification_id}/acknowledge",
    ): Needs("recalls.coordinate", "record recall acknowledgements"),
    (
        "POST",
        "/api/v1/distribution/recalls/{recall_id}/notifications/{notification_id}/returns",
    ): Needs("recalls.coordinate", "record recall returns"),
    # lifecycle.distribution.routing.api
    ("POST", "/api/v1/distribution/routes/plan"): Needs("routes.plan", "plan delivery routes"),
    ("POST", "/api/v1/distribution/routes/plans"): Needs("routes.plan", "store route plans"),
    ("GET", "/api/v1/distribution/routes/plans/{plan_id}"): Needs(
        "records.read", "read route plans"
    ),
    ("POST", "/api/v1/distribution/routes/plans/{plan_id}/approve"): Step("route_plan", "approve"),
    # lifecycle.distribution.inventory.api
    ("GET", "/api/v1/distribution/inventory/stock"): Needs("records.read", "read stock"),
    ("GET", "/api/v1/distribution/inventory/fefo-proposal"): Needs("records.read", "read stock"),
    ("GET", "/api/v1/distribution/inventory/expiry"): Needs("records.read", "read stock"),
    ("GET", "/api/v1/distribution/inventory/reorder"): Needs("records.read", "read stock"),
    ("GET", "/api/v1/distribution/inventory/reconciliation"): Needs("records.read", "read stock"),
    # lifecycle.distribution.serials.api
    ("POST", "/api/v1/serials/ranges"): Needs("serials.manage", "commission serial numbers"),
    ("GET", "/api/v1/serials/ranges"): Needs("records.read", "read serial ranges"),
    # lifecycle.distribution.productpage.api
    ("PUT", "/api/v1/product-pages/{gtin}/leaflet"): Needs(
        "data.manage", "name a product's patient leaflet"
    ),
    ("GET", "/api/v1/verify/01/{gtin}/10/{lot}/21/{serial}"): Needs(
        "serials.verify", "verify packs"
    ),
    # platform.epcis_repository.api
    ("GET", "/api/v1/epcis/events"): Needs("records.read", "query EPCIS events"),
    ("POST", "/api/v1/epcis/queries"): Needs("epcis.queries", "keep EPCIS queries"),
    ("GET", "/api/v1/epcis/queries"): Needs("records.read", "list EPCIS queries"),
    ("GET", "/api/v1/epcis/queries/{name}/events"): Needs("records.read", "run EPCIS queries"),
    ("POST", "/api/v1/epcis/queries/{name}/subscriptions"): Needs(
        "epcis.queries", "subscribe to EPCIS queries"
    ),
    ("GET", "/api/v1/epcis/queries/{name}/subscriptions"): Needs(
        "records.read", "list EPCIS subscriptions"
    ),
    ("DELETE", "/api/v1/epcis/queries/{name}/subscriptions/{subscription_id}"): Needs(
        "epcis.queries", "end EPCIS subscriptions"
    ),
    ("GET", "/api/v1/epcis/export/lots/{identifier:path}"): Needs(
        "data.export", "export a lot's EPCIS events"
    ),
    # platform.genealogy.api
    ("GET", "/api/v1/data/genealogy/{identifier:path}"): Needs("records.read", "read genealogy"),
    ("GET", "/api/v1/data/trace/{identifier:path}/recall-scope"): Needs(
        "records.read", "read genealogy"
    ),
    # platform.masterdata.api
    ("POST", "/api/v1/data/products"): Needs("data.manage", "maintain master data"),
    ("POST", "/api/v1/data/materials"): Needs("data.manage", "maintain master data"),
    ("POST", "/api/v1/data/suppliers"): Needs("data.manage", "maintain master data"),
    ("POST", "/api/v1/data/locations"): Needs("data.manage", "maintain master data"),
    ("PUT", "/api/v1/data/locations/{key}/position"): Needs("data.manage", "maintain master data"),
    # platform.sensors.api
    ("POST", "/api/v1/data/sensors"): Needs("data.manage", "register sensors"),
    ("POST", "/api/v1/data/sensors/{code}/calibration"): Needs(
        "data.manage", "record sensor calibrations"
    ),
    # platform.traceability.api
    ("POST", "/api/v1/data/shipments"): Needs("data.ingest", "register shipments"),
    # platform.data.api
    ("GET", "/api/v1/data/entities"): Needs("records.read", "read platform data"),
    ("POST", "/api/v1/data/ingest/{kind}"): Needs("data.ingest", "deliver data"),
    ("POST", "/api/v1/data/loggers/upload"): Needs("data.ingest", "deliver data"),
    ("GET", "/api/v1/data/quarantine/{row_id}"): Needs("records.read", "read the quarantine"),
    ("POST", "/api/v1/data/quarantine/{row_id}/replay"): Needs(
        "data.ingest", "replay quarantined rows"
    ),
    ("POST", "/api/v1/data/quarantine/{row_id}/discard"): Needs(
        "data.ingest", "discard quarantined rows"
    ),
    ("POST", "/api/v1/data/sources"): Needs("data.manage", "register data sources"),
    ("GET", "/api/v1/data/sources/{code}/quality"): Needs(
        "records.read", "read data-quality figures"
    ),
    ("GET", "/api/v1/data/import-runs/{run_id}"): Needs("records.read", "read import runs"),
    ("POST", "/api/v1/data/adverse-event-lots/relink"): Needs(
        "data.ingest", "link adverse-event reports to lots"
    ),
    # compliance.api
    ("GET", "/api/v1/compliance/regulations"): Needs(
        "records.read", "read the regulations register"
    ),
    ("GET", "/api/v1/compliance/regulations/{regulation_id}"): Needs(
        "records.read", "read the regulations register"
    ),
    # compliance.process_analytics.api: built from the audit trail, so audit.read.
    ("GET", "/api/v1/compliance/process-analytics"): Needs("audit.read", PROCESS_ANALYTICS),
    ("GET", "/api/v1/compliance/process-analytics/{record_type}"): Needs(
        "audit.read", PROCESS_ANALYTICS
    ),
    ("GET", "/api/v1/compliance/process-analytics/{record_type}/records"): Needs(
        "audit.read", PROCESS_ANALYTICS
    ),
    # compliance.configuration.api
    ("GET", "/api/v1/configuration/keys"): Needs("records.read", CONFIG_READ),
    ("GET", "/api/v1/configuration/keys/{key}"): Needs("records.read", CONFIG_READ),
    ("POST", "/api/v1/configuration/keys/{key}/versions"): Needs(
        "config.manage", "change the configuration"
    ),
    ("GET", "/api/v1/configuration/versions/{version_id}"): Needs("records.read", CONFIG_READ),
    ("POST", "/api/v1/configuration/versions/{version_id}/test"): Needs(
        "config.manage", "test configuration versions"
    ),
    ("GET", "/api/v1/configuration/uses/{record_type}/{record_id}"): Needs(
        "records.read", CONFIG_READ
    ),
    # compliance.apqr.api
    ("GET", "/api/v1/compliance/apqr/register"): Needs("records.read", APQR_READ),
    ("GET", "/api/v1/compliance/apqr/reviews"): Needs("records.read", APQR_READ),
    ("POST", "/api/v1/compliance/apqr/reviews"): Needs("apqr.write", "generate product reviews"),
    ("GET", "/api/v1/compliance/apqr/reviews/{review_id}"): Needs("records.read", APQR_READ),
    ("POST", "/api/v1/compliance/apqr/reviews/{review_id}/conclusions"): Needs(
        "apqr.write", "write the conclusions of product reviews"
    ),
    ("POST", "/api/v1/compliance/apqr/reviews/{review_id}/conclude"): Needs(
        "apqr.write", "sign the conclusions of product reviews"
    ),
    ("POST", "/api/v1/compliance/apqr/reviews/{review_id}/approve"): Needs(
        "apqr.approve", "approve product reviews"
    ),
    ("POST", "/api/v1/compliance/apqr/reviews/{review_id}/return"): Needs(
        "apqr.approve", "return product reviews for rework"
    ),
    ("GET", "/api/v1/compliance/apqr/reviews/{review_id}/pdf"): Needs("records.read", APQR_READ),
    # lifecycle.production.batchrecords.external_api
    ("POST", "/api/v1/production/external-reviews"): Needs(
        "batchrecords.review_external", "review imported batch records"
    ),
    ("GET", "/api/v1/production/external-reviews/{review_id}"): Needs(
        "records.read", "read batch records"
    ),
    ("POST", "/api/v1/production/external-reviews/{review_id}/refresh"): Needs(
        "batchrecords.review_external", "review imported batch records"
    ),
    ("POST", "/api/v1/production/external-reviews/{review_id}/assessments"): Needs(
        "batchrecords.review_external", "review imported batch records"
    ),
    ("POST", "/api/v1/production/external-reviews/{review_id}/review"): Step(
        "external_batch_review", "review"
    ),
}
