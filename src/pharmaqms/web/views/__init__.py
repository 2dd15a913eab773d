"""UI routers, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from pharmaqms.compliance import views as compliance_views
from pharmaqms.compliance.apqr import views as apqr_views
from pharmaqms.compliance.configuration import views as configuration_views
from pharmaqms.compliance.outcomes import views as outcome_views
from pharmaqms.compliance.process_analytics import views as process_analytics_views
from pharmaqms.compliance.validation import views as validation_views
from pharmaqms.lifecycle.distribution import views as distribution_views
from pharmaqms.lifecycle.distribution.inventory import views as distribution_inventory_views
from pharmaqms.lifecycle.distribution.productpage import views as product_page_views
from pharmaqms.lifecycle.distribution.recalls import views as distribution_recall_views
from pharmaqms.lifecycle.distribution.routing import views as distribution_routing_views
from pharmaqms.lifecycle.production.batchrecords import external_views as production_mesreview_views
from pharmaqms.lifecycle.production.batchrecords import views as production_batch_records_views
from pharmaqms.lifecycle.production.kpi import views as production_kpi_views
from pharmaqms.lifecycle.production.materials import views as production_materials_views
from pharmaqms.lifecycle.production.monitoring import views as production_monitoring_views
from pharmaqms.lifecycle.production.nonconforming import views as production_nc_views
from pharmaqms.lifecycle.production.qc import views as production_qc_views
from pharmaqms.lifecycle.production.release import views as production_release_views
from pharmaqms.lifecycle.rnd.eln import views as rnd_eln_views
from pharmaqms.lifecycle.rnd.gates import views as rnd_gates_views
from pharmaqms.lifecycle.rnd.stability import views as rnd_stability_views
from pharmaqms.lifecycle.rnd.submissions import views as rnd_submission_views
from pharmaqms.lifecycle.rnd.transfer import views as rnd_transfer_views
from pharmaqms.lifecycle.use.cases import public as pv_public_views
from pharmaqms.lifecycle.use.cases import views as pv_case_views
from pharmaqms.lifecycle.use.lots import views as pv_lot_views
from pharmaqms.lifecycle.use.psur import views as pv_psur_views
from pharmaqms.lifecycle.use.risk import views as pv_risk_views
from pharmaqms.lifecycle.use.signals import views as pv_signal_views
from pharmaqms.platform.data import views as data_views
from pharmaqms.platform.genealogy import views as genealogy_views
from pharmaqms.platform.masterdata import views as masterdata_views
from pharmaqms.quality import views as quality_views
from pharmaqms.quality.capa import views as capa_views
from pharmaqms.quality.changes import views as changes_views
from pharmaqms.quality.complaints import views as complaints_views
from pharmaqms.quality.deviations import views as deviations_views
from pharmaqms.quality.documents import authoring_views as document_authoring_views
from pharmaqms.quality.documents import review_views as periodic_review_views
from pharmaqms.quality.documents import views as documents_views
from pharmaqms.quality.risk import views as risk_views
from pharmaqms.quality.training import views as training_views
from pharmaqms.quality.training.competence import views as competence_views
from pharmaqms.web.views import (
    admin,
    audit,
    auth,
    dashboard,
    jobs,
    notifications,
    operations,
    records,
    search,
    standing,
)
from pharmaqms.web.views import layout as _layout  # noqa: F401 - menu and filters for templates

ROUTERS: list[APIRouter] = [
    operations.router,
    auth.router,
    dashboard.router,
    standing.router,
    records.router,
    search.router,
    audit.router,
    admin.router,
    notifications.router,
    jobs.router,
    documents_views.router,
    document_authoring_views.router,
    periodic_review_views.router,
    training_views.router,
    competence_views.router,
    deviations_views.router,
    capa_views.router,
    changes_views.router,
    complaints_views.router,
    risk_views.router,
    quality_views.router,
    rnd_eln_views.router,
    rnd_stability_views.router,
    rnd_gates_views.router,
    rnd_transfer_views.router,
    rnd_submission_views.router,
    production_materials_views.router,
    production_qc_views.router,
    production_nc_views.router,
    production_monitoring_views.router,
    production_batch_records_views.router,
    production_release_views.router,
    production_mesreview_views.router,
    production_kpi_views.router,
    distribution_views.router,
    distribution_recall_views.router,
    distribution_routing_views.router,
    distribution_inventory_views.router,
    product_page_views.router,
    pv_case_views.router,
    pv_lot_views.router,
    pv_psur_views.router,
    pv_risk_views.router,
    pv_signal_views.router,
    pv_public_views.router,
    genealogy_views.router,
    data_views.router,
    masterdata_views.router,
    compliance_views.router,
    validation_views.router,
    apqr_views.router,
    outcome_views.router,
    process_analytics_views.router,
    configuration_views.router,
]
