"""Who may call each page of the web UI: the pages half of the access table."""

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
PAGES: dict[tuple[str, str], Access] = {
    # web.views.auth
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/password"): PUBLIC,
    ("POST", "/password"): PUBLIC,
    ("GET", "/account/password-resets/{reset_id}"): SIGNED_IN,
    ("POST", "/account/password-resets/{reset_id}/confirm"): SIGNED_IN,
    ("POST", "/account/password-resets/{reset_id}/dispute"): SIGNED_IN,
    ("GET", "/account/time-zone"): SIGNED_IN,
    ("POST", "/account/time-zone"): SIGNED_IN,
    # web.views.operations: liveness and readiness for the load balancer and the
    # orchestrator (they say ok or a short reason, nothing else); metrics for Prometheus.
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): Needs("metrics.read", "read the metrics"),
    # web.views.dashboard
    ("GET", "/"): SIGNED_IN,
    # web.views.standing: open and overdue figures, each linking to its register.
    ("GET", "/standing"): Needs("records.read", "read where things stand"),
    # Handing a task on: the service decides (whoever has the task in their inbox).
    ("GET", "/tasks/{task_id}/delegate"): SIGNED_IN,
    ("POST", "/tasks/{task_id}/delegate"): SIGNED_IN,
    ("POST", "/tasks/{task_id}/return"): SIGNED_IN,
    # web.views.notifications: one's own settings; an e-mail's link leads to the record's
    # page, which checks its own permission.
    ("GET", "/account/notifications"): SIGNED_IN,
    ("POST", "/account/notifications"): SIGNED_IN,
    ("GET", "/tasks/{task_id}/record"): SIGNED_IN,
    ("GET", "/admin/notifications"): Needs("users.read", "see the e-mail outbox"),
    ("POST", "/admin/notifications/{notice_id}/retry"): Needs(
        "users.manage", "retry notifications"
    ),
    # web.views.jobs: the job runner's queue; a retry is audited.
    ("GET", "/admin/jobs"): Needs("jobs.read", "see the background jobs"),
    ("POST", "/admin/jobs/{job_id}/retry"): Needs("jobs.manage", "retry jobs"),
    # web.views.records
    ("GET", "/records"): Needs("records.read", "read records"),
    ("GET", "/records/{type_name}"): Needs("records.read", "read records"),
    ("GET", "/records/{type_name}/{record_id}"): Needs("records.read", "read records"),
    ("GET", "/records/{type_name}/{record_id}/report.pdf"): Needs(
        "records.read", "read records", narrower=True
    ),
    ("POST", "/records/{type_name}/{record_id}/transitions/{name}"): NAMED_TRANSITION,
    # web.views.search: what it finds is limited to the types the person may read.
    ("GET", "/search"): Needs("records.read", "search records"),
    # web.views.audit
    ("GET", "/audit"): Needs("records.read", "read the audit trail", narrower=True),
    # web.views.admin
    ("GET", "/admin/users"): Needs("users.read", "see users"),
    ("POST", "/admin/users"): Needs("users.manage", "add users"),
    ("GET", "/admin/users/{user_id}"): Needs("users.read", "see users"),
    ("POST", "/admin/users/{user_id}/roles"): Needs("users.manage", "change roles"),
    ("POST", "/admin/users/{user_id}/deactivate"): Needs("users.manage", "deactivate users"),
    ("POST", "/admin/users/{user_id}/reactivate"): Needs("users.manage", "reactivate users"),
    ("POST", "/admin/users/{user_id}/unlock"): Needs("users.manage", "unlock accounts"),
    ("POST", "/admin/users/{user_id}/time-zone"): Needs("users.manage", "set time zones"),
    ("POST", "/admin/users/{user_id}/reset-password"): Needs("users.manage", "reset passwords"),
    ("POST", "/admin/users/{user_id}/role-requests"): Needs("users.manage", "ask for roles"),
    ("GET", "/admin/role-requests/{request_id}"): Needs("users.read", "see role grant requests"),
    ("POST", "/admin/role-requests/{request_id}/transitions/{name}"): Needs(
        "users.manage", "decide on role grant requests"
    ),
    ("POST", "/admin/users/{user_id}/tokens"): Needs("users.manage", "mint API tokens"),
    ("POST", "/admin/tokens/{token_id}/revoke"): Needs(
        "users.manage", "revoke tokens of other accounts"
    ),
    ("POST", "/admin/alerts/{alert_id}/acknowledge"): Needs(
        "users.manage", "acknowledge security alerts"
    ),
    # quality.documents.views
    ("GET", "/documents"): Needs("records.read", "read documents"),
    ("GET", "/documents/new"): Needs("documents.author", "author documents"),
    ("POST", "/documents"): Needs("documents.author", "author documents"),
    ("GET", "/documents/{document_id}"): Needs("records.read", "read documents"),
    ("POST", "/documents/versions/{version_id}/edit"): Needs("documents.author", "edit documents"),
    ("POST", "/documents/{document_id}/revisions"): Needs("documents.author", "revise documents"),
    # quality.documents.authoring_views
    ("POST", "/documents/versions/{version_id}/preview"): Needs(
        "documents.author", "edit documents"
    ),
    ("POST", "/documents/versions/{version_id}/attachments"): Needs(
        "documents.author", "attach files to documents"
    ),
    ("POST", "/documents/versions/{version_id}/reviewers"): Needs(
        "documents.author", "name the reviewers of documents"
    ),
    # The service refuses whoever is not a named reviewer of the version.
    ("POST", "/documents/versions/{version_id}/review"): Needs(
        "documents.review", "review documents"
    ),
    ("GET", "/documents/{document_id}/compare"): Needs("records.read", "read documents"),
    # quality.documents.review_views
    ("GET", "/periodic-reviews"): Needs("records.read", "read the periodic review register"),
    ("GET", "/periodic-reviews/{review_id}"): Needs("records.read", "read documents"),
    ("POST", "/periodic-reviews/{review_id}/conclude"): Step(
        "periodic_review", "conclude_no_change"
    ),
    ("POST", "/periodic-reviews/{review_id}/start-revision"): Step(
        "periodic_review", "start_revision"
    ),
    # quality.training.competence.views
    ("GET", "/training/qualification"): Needs("records.read", "read the qualification matrix"),
    ("POST", "/training/qualification-requirements"): Needs(
        "training.manage", "define what job roles require"
    ),
    ("POST", "/training/qualification-requirements/{requirement_id}/retire"): Needs(
        "training.manage", "define what job roles require"
    ),
    ("GET", "/training/qualification/people/{user_id}"): Needs(
        "records.read", "read qualifications"
    ),
    ("POST", "/training/qualification/people/{user_id}/observed"): Needs(
        "training.assess", "record observed practice"
    ),
    ("POST", "/training/qualification/quiz"): Step("training_assessment", "attest_quiz"),
    ("GET", "/training/authorisations"): Needs("records.read", "read the authorisation register"),
    ("POST", "/training/authorisations"): Needs("training.authorise", "grant authorisations"),
    ("GET", "/training/authorisations/{authorisation_id}"): Needs(
        "records.read", "read authorisations"
    ),
    ("GET", "/training/authorisations/{authorisation_id}/basis"): Needs(
        "records.read", "read authorisations"
    ),
    ("POST", "/training/authorisations/{authorisation_id}/revoke"): Needs(
        "training.authorise", "revoke authorisations"
    ),
    ("GET", "/training/effectiveness"): Needs(
        "records.read", "read the training-effectiveness figures"
    ),
    # quality.training.views
    ("GET", "/training/my"): SIGNED_IN,
    ("GET", "/training/requirements/{requirement_id}"): Needs(
        "records.read", "read training records"
    ),
    ("POST", "/training/requirements/{requirement_id}/open"): Step(
        "training_requirement", "complete"
    ),
    ("POST", "/training/requirements/{requirement_id}/complete"): Step(
        "training_requirement", "complete"
    ),
    ("GET", "/training/matrix"): Needs("records.read", "read the training matrix"),
    ("GET", "/training/job-roles"): Needs("records.read", "read job roles"),
    ("POST", "/training/job-roles"): Needs("training.manage", "define job roles"),
    ("GET", "/training/job-roles/{job_role_id}"): Needs("records.read", "read job roles"),
    ("POST", "/training/job-roles/{job_role_id}/curricula"): Needs(
        "training.manage", "define curricula"
    ),
    ("POST", "/training/curricula/{curriculum_id}/items"): Needs(
        "training.manage", "change curricula"
    ),
    ("POST", "/training/curriculum-items/{item_id}/remove"): Needs(
        "training.manage", "change curricula"
    ),
    ("POST", "/training/job-roles/{job_role_id}/holders"): Needs(
        "training.manage", "assign job roles"
    ),
    ("POST", "/training/job-role-assignments/{assignment_id}/end"): Needs(
        "training.manage", "end job roles"
    ),
    ("GET", "/training/quizzes/{document_id}"): Needs("training.manage", "write quizzes"),
    ("POST", "/training/quizzes/{document_id}"): Needs("training.manage", "write quizzes"),
    ("GET", "/training/governing"): Needs("records.read", "read the governing documents"),
    ("POST", "/training/governing"): Needs(
        "training.manage", "decide which documents govern which steps"
    ),
    ("POST", "/training/governing/{rule_id}/retire"): Needs(
        "training.manage", "decide which documents govern which steps"
    ),
    # quality.deviations.views
    ("GET", "/deviations"): Needs("records.read", "read deviations"),
    ("GET", "/deviations/new"): Needs("deviations.report", "report deviations"),
    ("POST", "/deviations"): Needs("deviations.report", "report deviations"),
    ("GET", "/deviations/{deviation_id}"): Needs("records.read", "read deviations"),
    ("POST", "/deviations/{deviation_id}/classification"): Needs(
        "deviations.manage", "classify deviations"
    ),
    ("POST", "/deviations/{deviation_id}/investigation"): Needs(
        "deviations.investigate", "investigate deviations"
    ),
    ("POST", "/deviations/{deviation_id}/no-capa"): Needs(
        "deviations.investigate", "investigate deviations"
    ),
    ("POST", "/deviations/{deviation_id}/capa"): Needs("capa.raise", "raise CAPAs"),
    ("POST", "/deviations/{deviation_id}/batches"): Needs(
        "deviations.report", "name batches affected by deviations"
    ),
    ("POST", "/deviations/{deviation_id}/batches/{batch_ref_id}/assessment"): Needs(
        "deviations.investigate", "assess batch impact"
    ),
    ("POST", "/deviations/{deviation_id}/batches/{batch_ref_id}/disposition"): Needs(
        "deviations.disposition", "decide on batch dispositions"
    ),
    ("POST", "/deviations/{deviation_id}/extensions"): Needs(
        "deviations.investigate",
        "request an extension of a deviation",
        alternatives=("deviations.manage",),
    ),
    ("POST", "/deviations/{deviation_id}/extensions/{extension_id}/decision"): Needs(
        "deviations.manage", "decide on extension requests"
    ),
    # quality.capa.views
    ("GET", "/capas"): Needs("records.read", "read CAPAs"),
    ("GET", "/capas/new"): Needs("capa.raise", "raise CAPAs"),
    ("POST", "/capas"): Needs("capa.raise", "raise CAPAs"),
    ("GET", "/capas/{capa_id}"): Needs("records.read", "read CAPAs"),
    ("POST", "/capas/{capa_id}/actions"): Needs("capa.manage", "work on CAPAs"),
    ("POST", "/capas/{capa_id}/actions/{action_id}/completion"): Needs(
        "capa.manage", "complete CAPA actions"
    ),
    ("POST", "/capas/{capa_id}/actions/{action_id}/cancellation"): Needs(
        "capa.manage", "work on CAPAs"
    ),
    ("POST", "/capas/{capa_id}/effectiveness-plan"): Needs("capa.manage", "work on CAPAs"),
    ("POST", "/capas/{capa_id}/effectiveness-result"): Needs(
        "capa.approve", "verify the effectiveness of CAPAs"
    ),
    # quality.changes.views
    ("GET", "/changes"): Needs("records.read", "read change requests"),
    ("GET", "/changes/new"): Needs("changes.request", "request changes"),
    ("POST", "/changes"): Needs("changes.request", "request changes"),
    ("GET", "/changes/{change_id}"): Needs("records.read", "read change requests"),
    ("POST", "/changes/{change_id}/impact-assessment"): Needs(
        "changes.assess", "assess the impact of changes"
    ),
    ("POST", "/changes/{change_id}/decisions"): Needs("changes.approve", "approve changes"),
    ("POST", "/changes/{change_id}/actions"): Needs(
        "changes.assess", "plan the tasks of someone else's change"
    ),
    ("POST", "/changes/{change_id}/actions/{action_id}/completion"): Needs(
        "changes.implement", "complete implementation tasks"
    ),
    ("POST", "/changes/{change_id}/affected"): Needs(
        "changes.request", "name what a change affects"
    ),
    ("POST", "/changes/{change_id}/submission"): Needs(
        "changes.implement", "record the regulatory submission of changes"
    ),
    ("POST", "/changes/{change_id}/authority-approval"): Needs(
        "changes.assess", "record the authority's approval of changes"
    ),
    ("POST", "/changes/{change_id}/effectiveness-review"): Needs(
        "changes.assess", "review the effectiveness of changes"
    ),
    # lifecycle.use.cases.views and .public
    ("GET", "/pv/cases"): Needs("records.read", "read cases"),
    ("GET", "/pv/cases/new"): Needs("pv.intake", "take in adverse event reports"),
    ("POST", "/pv/cases"): Needs("pv.intake", "take in adverse event reports"),
    ("GET", "/pv/cases/{case_id}"): Needs("records.read", "read cases"),
    ("POST", "/pv/cases/{case_id}/assessment"): Needs("pv.review", "assess cases"),
    ("POST", "/pv/cases/{case_id}/merge"): Step("pv_case", "mark_duplicate"),
    # lifecycle.use.lots.views
    ("GET", "/pv/lots/{lot_id}"): Needs("records.read", "read the lot safety review"),
    ("POST", "/pv/lots/{lot_id}/capa"): Needs("capa.raise", "raise CAPAs"),
    # lifecycle.use.psur.views and lifecycle.use.risk.views
    ("GET", "/pv/psur"): Needs("records.read", "read periodic safety summaries"),
    ("GET", "/pv/psur/draft.pdf"): Needs("records.read", "read periodic safety summaries"),
    ("POST", "/pv/psur/reports"): Needs("pv.psur", "sign periodic safety reports"),
    ("GET", "/pv/psur/reports/{report_id}"): Needs("records.read", "read periodic safety reports"),
    ("GET", "/pv/psur/reports/{report_id}/pdf"): Needs(
        "records.read", "read periodic safety reports"
    ),
    ("GET", "/pv/risk-factors"): Needs("records.read", "read risk-factor analyses"),
    # lifecycle.use.signals.views
    ("GET", "/pv/signals"): Needs("records.read", "read signals"),
    ("POST", "/pv/signals/detection"): Needs("signals.detect", "run signal detection"),
    ("GET", "/pv/signals/{signal_id}"): Needs("records.read", "read signals"),
    ("POST", "/pv/signals/{signal_id}/assessment"): Needs("signals.assess", "assess signals"),
    ("POST", "/pv/signals/{signal_id}/actions"): Needs("signals.act", "take action on signals"),
    ("POST", "/pv/lots/{lot_id}/signal"): Needs("signals.detect", "raise signals"),
    # The public side-effect form: no login by design (CSRF, honeypot and rate limit inside).
    ("GET", "/report-side-effect"): PUBLIC,
    ("POST", "/report-side-effect"): PUBLIC,
    # quality.complaints.views
    ("GET", "/complaints"): Needs("records.read", "read complaints"),
    ("GET", "/complaints/new"): Needs("complaints.register", "register complaints"),
    ("POST", "/complaints"): Needs("complaints.register", "register complaints"),
    ("GET", "/complaints/{complaint_id}"): Needs("records.read", "read complaints"),
    ("POST", "/complaints/{complaint_id}/triage"): Needs("complaints.manage", "triage complaints"),
    ("POST", "/complaints/{complaint_id}/pv-acknowledgement"): Needs(
        "complaints.pv_handover", "acknowledge adverse event handovers"
    ),
    ("POST", "/complaints/{complaint_id}/investigation"): Needs(
        "complaints.investigate", "investigate complaints"
    ),
    ("POST", "/complaints/{complaint_id}/response"): Needs(
        "complaints.manage", "respond to complainants"
    ),
    ("POST", "/complaints/{complaint_id}/capa"): Needs("capa.raise", "raise CAPAs"),
    # quality.risk.views
    ("GET", "/risk-assessments"): Needs("records.read", "read risk assessments"),
    ("GET", "/risk-register/products/{product_id}"): Needs("records.read", "read risk assessments"),
    ("GET", "/risk-assessments/new"): Needs("risk.assess", "assess risks"),
    ("POST", "/risk-assessments"): Needs("risk.assess", "assess risks"),
    ("GET", "/risk-assessments/{assessment_id}"): Needs("records.read", "read risk assessments"),
    ("POST", "/risk-assessments/{assessment_id}/items"): Needs(
        "risk.assess", "edit risk assessments"
    ),
    ("POST", "/risk-assessments/{assessment_id}/items/{item_id}/retirement"): Needs(
        "risk.assess", "edit risk assessments"
    ),
    ("POST", "/risk-assessments/{assessment_id}/acceptance"): Needs(
        "risk.assess", "edit risk assessments"
    ),
    # quality.views
    ("GET", "/quality/trends"): Needs("records.read", "read quality trends"),
    ("GET", "/quality/charts/deviations-by-class.svg"): Needs(
        "records.read", "read quality trends"
    ),
    ("GET", "/quality/charts/deviations-by-area.svg"): Needs("records.read", "read quality trends"),
    ("GET", "/quality/charts/capa-on-time.svg"): Needs("records.read", "read quality trends"),
    # lifecycle.production.materials.views
    ("GET", "/production/scan"): Needs("records.read", "scan containers"),
    ("GET", "/production/materials"): Needs("records.read", "read the approved supplier list"),
    # lifecycle.production.qc.views
    ("GET", "/production/qc"): Needs("records.read", "read QC"),
    ("GET", "/production/qc/lots/{lot_id}"): Needs("records.read", "read QC"),
    ("GET", "/production/qc/results/{result_id}"): Needs("records.read", "read QC"),
    ("POST", "/production/qc/lots/{lot_id}/results"): Needs("qc.results", "record QC results"),
    ("POST", "/production/qc/lots/{lot_id}/certificates"): Needs(
        "qc.certificates", "prepare certificates of analysis"
    ),
    ("POST", "/production/qc/results/{result_id}/trend-assessment"): Needs(
        "qc.investigate", "assess out-of-trend results"
    ),
    ("GET", "/production/qc/specifications/{spec_id}"): Needs(
        "records.read", "read QC specifications"
    ),
    ("GET", "/production/qc/investigations/{investigation_id}"): Needs(
        "records.read", "read OOS investigations"
    ),
    ("POST", "/production/qc/investigations/{investigation_id}/phase-1"): Needs(
        "qc.investigate", "investigate OOS results"
    ),
    ("POST", "/production/qc/investigations/{investigation_id}/phase-2"): Needs(
        "qc.investigate", "investigate OOS results"
    ),
    ("POST", "/production/qc/investigations/{investigation_id}/retests"): Needs(
        "qc.results", "record QC results"
    ),
    # lifecycle.production.nonconforming.views
    ("GET", "/production/nonconformances"): Needs(
        "records.read", "read nonconforming product records"
    ),
    ("GET", "/production/nonconformances/{nc_id}"): Needs(
        "records.read", "read nonconforming product records"
    ),
    ("POST", "/production/nonconformances/{nc_id}/disposition"): Needs(
        "nonconformance.disposition", "propose dispositions"
    ),
    ("POST", "/production/nonconformances/{nc_id}/execution"): Needs(
        "nonconformance.disposition", "record the execution of dispositions"
    ),
    # lifecycle.distribution.routing.views
    ("GET", "/distribution/routes"): Needs("routes.plan", "plan delivery routes"),
    ("POST", "/distribution/routes"): Needs("routes.plan", "plan delivery routes"),
    ("POST", "/distribution/routes/plans"): Needs("routes.plan", "store route plans"),
    ("GET", "/distribution/routes/plans/{plan_id}"): Needs("records.read", "read route plans"),
    ("POST", "/distribution/routes/plans/{plan_id}/approve"): Step("route_plan", "approve"),
    # lifecycle.rnd.stability.views
    ("GET", "/rnd/stability"): Needs("stability.read", "read stability studies"),
    ("POST", "/rnd/stability"): Needs("stability.write", "write stability protocols"),
    ("GET", "/rnd/stability/{study_id}"): Needs("stability.read", "read stability studies"),
    ("GET", "/rnd/stability/pulls/{pull_id}"): Needs("stability.read", "read stability studies"),
    ("POST", "/rnd/stability/{study_id}/results"): Needs(
        "stability.results", "record stability results"
    ),
    ("POST", "/rnd/stability/{study_id}/pulls"): Needs(
        "stability.results", "record stability pulls"
    ),
    # lifecycle.rnd.transfer.views
    ("GET", "/rnd/recipes"): Needs("rnd.read", "read development recipes"),
    ("POST", "/rnd/recipes"): Needs("rnd.recipes", "write development recipes"),
    ("GET", "/rnd/recipes/{recipe_id}"): Needs("rnd.read", "read development recipes"),
    ("POST", "/rnd/recipes/{recipe_id}/revisions"): Needs(
        "rnd.recipes", "revise development recipes"
    ),
    ("POST", "/rnd/recipes/{recipe_id}/transfers"): Needs(
        "rnd.transfer", "raise technology transfers"
    ),
    ("POST", "/rnd/transfers/{transfer_id}/implementation"): Needs(
        "changes.implement", "implement changes"
    ),
    # lifecycle.rnd.submissions.views
    ("GET", "/rnd/submissions"): Needs("submissions.read", SUBMISSIONS_READ),
    ("POST", "/rnd/submissions"): Needs("submissions.write", "generate submission documents"),
    ("GET", "/rnd/submissions/{document_id}"): Needs("submissions.read", SUBMISSIONS_READ),
    ("POST", "/rnd/submissions/{document_id}/review"): Needs(
        "submissions.review", "review submission documents"
    ),
    ("POST", "/rnd/submissions/{document_id}/return"): Needs(
        "submissions.review", "return submission documents"
    ),
    ("POST", "/rnd/submissions/{document_id}/approve"): Needs(
        "submissions.approve", "approve submission documents"
    ),
    ("GET", "/rnd/submissions/{document_id}/pdf"): Needs("submissions.read", SUBMISSIONS_READ),
    # lifecycle.rnd.gates.views
    ("GET", "/rnd/gates"): Needs("records.read", "read R&D stage gates"),
    ("POST", "/rnd/gates/plans"): Needs("rnd.gates", "plan R&D projects"),
    ("GET", "/rnd/projects/{project_id}/gates"): Needs("records.read", "read R&D stage gates"),
    ("POST", "/rnd/projects/{project_id}/gates"): Needs("rnd.gates", "open stage gates"),
    ("GET", "/rnd/gates/{gate_id}"): Needs("records.read", "read R&D stage gates"),
    ("POST", "/rnd/gates/{gate_id}/evidence"): Needs("rnd.gates", "collect gate evidence"),
    ("POST", "/rnd/evidence/{evidence_id}/withdraw"): Needs("rnd.gates", "collect gate evidence"),
    ("POST", "/rnd/gates/{gate_id}/submit"): Needs("rnd.gates", "submit stage gates"),
    ("POST", "/rnd/gates/{gate_id}/approve"): Needs("rnd.gates.approve", "approve stage gates"),
    ("POST", "/rnd/gates/{gate_id}/return"): Needs("rnd.gates.approve", "return stage gates"),
    ("GET", "/rnd/kpi"): Needs("records.read", "read the R&D KPIs"),
    # lifecycle.rnd.eln.views
    ("GET", "/rnd"): Needs("rnd.read", "read the lab notebook"),
    ("POST", "/rnd/projects"): Needs("rnd.manage", "set up R&D projects"),
    ("POST", "/rnd/templates"): Needs("rnd.manage", "set up experiment templates"),
    ("GET", "/rnd/projects/{project_id}"): Needs("rnd.read", "read the lab notebook"),
    ("POST", "/rnd/projects/{project_id}/experiments"): Needs("rnd.write", "start experiments"),
    ("GET", "/rnd/experiments/{experiment_id}"): Needs("rnd.read", "read the lab notebook"),
    ("POST", "/rnd/experiments/{experiment_id}/entries"): Needs(
        "rnd.write", "write notebook entries"
    ),
    ("POST", "/rnd/entries/{entry_id}/transitions/sign"): Needs(
        "rnd.write", "sign notebook entries"
    ),
    ("POST", "/rnd/entries/{entry_id}/transitions/witness"): Needs(
        "rnd.witness", "witness notebook entries"
    ),
    ("GET", "/rnd/files/{file_id}"): Needs("rnd.read", "read raw data files"),
    ("POST", "/rnd/experiments/{experiment_id}/disclosure"): Needs(
        "rnd.disclose", "disclose notebook entries"
    ),
    # lifecycle.distribution.recalls.views
    ("GET", "/distribution/recalls"): Needs("records.read", "read recalls"),
    ("POST", "/distribution/recalls"): Needs("recalls.coordinate", "open recalls"),
    ("GET", "/distribution/recalls/{recall_id}"): Needs("records.read", "read recalls"),
    ("POST", "/distribution/recalls/{recall_id}/approve"): Step("recall", "approve"),
    ("POST", "/distribution/recalls/{recall_id}/notify"): Step("recall", "start"),
    ("POST", "/distribution/recalls/{recall_id}/close"): Step("recall", "close"),
    ("POST", "/distribution/recalls/{recall_id}/cancel"): Step("recall", "cancel"),
    (
        "POST",
        "/distribution/recalls/{recall_id}/notifications/{notification_id}/acknowledge",
    ): Needs("recalls.coordinate", "record recall acknowledgements"),
    ("POST", "/distribution/recalls/{recall_id}/notifications/{notification_id}/returns"): Needs(
        "recalls.coordinate", "record recall returns"
    ),
    # lifecycle.distribution.inventory.views
    ("GET", "/distribution/inventory"): Needs("records.read", "read stock"),
    ("GET", "/distribution/inventory/fefo"): Needs("records.read", "read stock"),
    ("GET", "/distribution/inventory/expiry"): Needs("records.read", "read stock"),
    ("GET", "/distribution/inventory/reorder"): Needs("records.read", "read stock"),
    ("GET", "/distribution/inventory/reconciliation"): Needs("records.read", "read stock"),
    # lifecycle.distribution.views
    ("GET", "/distribution/alarms"): Needs("records.read", "read cold-chain alarms"),
    ("GET", "/distribution/alarms/{alarm_id}"): Needs("records.read", "read cold-chain alarms"),
    ("POST", "/distribution/alarms/{alarm_id}/acknowledge"): Step("coldchain_alarm", "acknowledge"),
    ("POST", "/distribution/alarms/{alarm_id}/assess"): Step("coldchain_alarm", "assess"),
    ("POST", "/distribution/alarms/{alarm_id}/close"): Step("coldchain_alarm", "close"),
    ("GET", "/distribution/curves"): Needs("records.read", "read temperature curves"),
    ("GET", "/distribution/kpi"): Needs("records.read", "read the distribution KPIs"),
    # lifecycle.distribution.productpage.views: the pack's GS1 Digital Link, for anyone
    # holding the pack (rate-limited per address), and the labels that carry it.
    ("GET", "/01/{gtin}"): PUBLIC,
    ("GET", "/01/{gtin}/10/{rest:path}"): PUBLIC,  # /10/{lot}[/21/{serial}], '/' in either
    ("GET", "/leaflets/{gtin}"): PUBLIC,
    ("GET", "/distribution/serials/ranges/{range_id}/labels"): Needs(
        "serials.manage", "print pack labels"
    ),
    # lifecycle.production.monitoring.views
    ("GET", "/production/monitoring"): Needs("records.read", "read process monitoring"),
    ("POST", "/production/monitoring/parameters"): Needs(
        "spc.configure", "define monitored parameters"
    ),
    ("POST", "/production/monitoring/groups"): Needs("spc.configure", "define T² groups"),
    ("GET", "/production/monitoring/parameters/{parameter_id}"): Needs(
        "records.read", "read control charts"
    ),
    ("GET", "/production/monitoring/parameters/{parameter_id}/live"): Needs(
        "records.read", "read control charts"
    ),
    ("GET", "/production/monitoring/parameters/{parameter_id}/chart.svg"): Needs(
        "records.read", "read control charts"
    ),
    ("POST", "/production/monitoring/parameters/{parameter_id}/configuration"): Needs(
        "spc.configure", "configure monitored parameters"
    ),
    ("GET", "/production/monitoring/parameters/{parameter_id}/limits"): Needs(
        "records.read", "read control limits"
    ),
    ("POST", "/production/monitoring/parameters/{parameter_id}/limits"): Needs(
        "spc.estimate", "estimate control limits"
    ),
    ("GET", "/production/monitoring/groups/{group_id}"): Needs("records.read", "read T² charts"),
    ("GET", "/production/monitoring/groups/{group_id}/live"): Needs(
        "records.read", "read T² charts"
    ),
    ("POST", "/production/monitoring/groups/{group_id}/limits"): Needs(
        "spc.estimate", "estimate T² limits"
    ),
    ("GET", "/production/monitoring/alerts"): Needs("records.read", "read SPC alerts"),
    ("GET", "/production/monitoring/alerts/{alert_id}"): Needs("records.read", "read SPC alerts"),
    ("POST", "/production/monitoring/alerts/{alert_id}/acknowledge"): Step(
        "process_alert", "acknowledge"
    ),
    ("POST", "/production/monitoring/alerts/{alert_id}/escalate"): Step(
        "process_alert", "escalate"
    ),
    # lifecycle.production.batchrecords.views
    ("GET", "/production/batch-records"): Needs("records.read", "read batch records"),
    ("POST", "/production/batch-records"): Needs("batchrecords.open", "open batch records"),
    ("GET", "/production/batch-records/{record_id}"): Needs("records.read", "read batch records"),
    ("POST", "/production/batch-steps/{step_id}/materials"): Needs(
        "batchrecords.execute", "record batch record entries"
    ),
    ("POST", "/production/batch-steps/{step_id}/values"): Needs(
        "batchrecords.execute", "record batch record entries"
    ),
    ("POST", "/production/batch-steps/{step_id}/readings"): Needs(
        "batchrecords.execute", "record batch record entries"
    ),
    ("POST", "/production/batch-steps/{step_id}/equipment"): Needs(
        "batchrecords.execute", "record batch record entries"
    ),
    ("POST", "/production/batch-step-entries/{entry_id}/correction"): Needs(
        "batchrecords.execute", "correct batch record entries"
    ),
    ("POST", "/production/batch-steps/{step_id}/deviation"): Needs(
        "batchrecords.execute", "raise deviations from batch record steps"
    ),
    ("GET", "/production/batch-records/{record_id}/exceptions"): Needs(
        "records.read", "read batch record exceptions"
    ),
    ("POST", "/production/batch-record-exceptions/{exception_id}/deviation"): Needs(
        "batchrecords.review", "raise deviations from batch record exceptions"
    ),
    ("GET", "/production/equipment"): Needs("records.read", "read the equipment register"),
    ("GET", "/production/masters"): Needs("records.read", "read master batch records"),
    # lifecycle.production.release.views
    ("GET", "/production/release"): Needs("records.read", "read the release queue"),
    ("GET", "/production/release/{lot_id}"): Needs("records.read", "read release checklists"),
    ("POST", "/production/release/{lot_id}/release"): Needs("release.decide", "release batches"),
    ("POST", "/production/release/{lot_id}/reject"): Needs("release.decide", "reject batches"),
    # lifecycle.production.kpi.views
    ("GET", "/production/kpi"): Needs("records.read", "read the production KPIs"),
    # platform.genealogy.views
    ("GET", "/data/genealogy"): Needs("records.read", "read genealogy"),
    # platform.data.views
    ("GET", "/data/sources"): Needs("records.read", "read the data sources"),
    ("POST", "/data/sources"): Needs("data.manage", "register data sources"),
    ("GET", "/data/sources/{code}"): Needs("records.read", "read the data sources"),
    ("GET", "/data/runs/{run_id}"): Needs("records.read", "read import runs"),
    ("GET", "/data/quarantine/{row_id}"): Needs("records.read", "read the quarantine"),
    ("POST", "/data/quarantine/{row_id}/replay"): Needs("data.ingest", "replay quarantined rows"),
    ("POST", "/data/quarantine/{row_id}/discard"): Needs("data.ingest", "discard quarantined rows"),
    ("GET", "/data/upload"): Needs("data.ingest", "deliver data"),
    ("POST", "/data/upload"): Needs("data.ingest", "deliver data"),
    ("GET", "/data/browse"): Needs("records.read", "browse platform data"),
    ("GET", "/data/browse/{name}"): Needs("records.read", "browse platform data"),
    # platform.masterdata.views
    ("GET", "/data/locations/{key}"): Needs("records.read", "read master data"),
    ("POST", "/data/locations/{key}/position"): Needs("data.manage", "maintain master data"),
    # compliance.views
    ("GET", "/compliance/regulations"): Needs("records.read", "read the regulations register"),
    ("GET", "/compliance/regulations/{regulation_id}"): Needs(
        "records.read", "read the regulations register"
    ),
    ("POST", "/compliance/regulations/{regulation_id}/change"): Needs(
        "compliance.manage", "open change controls from regulations"
    ),
    ("GET", "/compliance/traceability"): Needs("records.read", "read the regulations register"),
    # compliance.validation.views
    ("GET", "/compliance/validation"): Needs("records.read", "read the validation evidence"),
    # compliance.outcomes.views
    ("GET", "/compliance/outcomes"): Needs("records.read", "read the outcome dashboard"),
    ("GET", "/compliance/outcomes/{key}"): Needs("records.read", "read the outcome dashboard"),
    # compliance.process_analytics.views: built from the audit trail, so audit.read.
    ("GET", "/compliance/process-analytics"): Needs("audit.read", PROCESS_ANALYTICS),
    ("GET", "/compliance/process-analytics/{record_type}"): Needs("audit.read", PROCESS_ANALYTICS),
    ("GET", "/compliance/process-analytics/{record_type}/records"): Needs(
        "audit.read", PROCESS_ANALYTICS
    ),
    # compliance.configuration.views
    ("GET", "/compliance/configuration"): Needs("records.read", CONFIG_READ),
    ("GET", "/compliance/configuration/keys/{key}"): Needs("records.read", CONFIG_READ),
    ("POST", "/compliance/configuration/keys/{key}/versions"): Needs(
        "config.manage", "change the configuration"
    ),
    ("GET", "/compliance/configuration/versions/{version_id}"): Needs("records.read", CONFIG_READ),
    ("POST", "/compliance/configuration/versions/{version_id}/test"): Needs(
        "config.manage", "test configuration versions"
    ),
    ("POST", "/compliance/configuration/versions/{version_id}/revision"): Needs(
        "config.manage", "change the configuration"
    ),
    # compliance.apqr.views
    ("GET", "/compliance/apqr"): Needs("records.read", APQR_READ),
    ("POST", "/compliance/apqr/reviews"): Needs("apqr.write", "generate product reviews"),
    ("GET", "/compliance/apqr/reviews/{review_id}"): Needs("records.read", APQR_READ),
    ("POST", "/compliance/apqr/reviews/{review_id}/conclusions"): Needs(
        "apqr.write", "write the conclusions of product reviews"
    ),
    ("POST", "/compliance/apqr/reviews/{review_id}/conclude"): Needs(
        "apqr.write", "sign the conclusions of product reviews"
    ),
    ("POST", "/compliance/apqr/reviews/{review_id}/approve"): Needs(
        "apqr.approve", "approve product reviews"
    ),
    ("POST", "/compliance/apqr/reviews/{review_id}/return"): Needs(
        "apqr.approve", "return product reviews for rework"
    ),
    ("GET", "/compliance/apqr/reviews/{review_id}/pdf"): Needs("records.read", APQR_READ),
    ("GET", "/compliance/apqr/reviews/{review_id}/batches.svg"): Needs("records.read", APQR_READ),
    # lifecycle.production.batchrecords.external_views
    ("GET", "/production/external-reviews/{review_id}"): Needs(
        "records.read", "read batch records"
    ),
    ("POST", "/production/external-reviews"): Needs(
        "batchrecords.review_external", "review imported batch records"
    ),
    ("POST", "/production/external-reviews/{review_id}/assessments"): Needs(
        "batchrecords.review_external", "review imported batch records"
    ),
    ("POST", "/production/external-reviews/{review_id}/refresh"): Needs(
        "batchrecords.review_external", "review imported batch records"
    ),
}
