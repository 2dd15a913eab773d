"""The application: the JSON API under /api/v1 and the server-rendered UI, assembled from the
kernel's pages and every module's routers."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

import pharmaqms.schema  # noqa: F401 - every module's tables, record types and permissions
from pharmaqms.compliance import api as compliance_api
from pharmaqms.compliance.apqr import api as apqr_api
from pharmaqms.compliance.configuration import api as configuration_api
from pharmaqms.compliance.process_analytics import api as process_analytics_api
from pharmaqms.kernel.db import Database, get_database, set_database
from pharmaqms.kernel.http import api_docs, openapi, problems
from pharmaqms.kernel.http.boundary import refuse_nul_characters
from pharmaqms.kernel.http.params import check_query_parameters
from pharmaqms.kernel.http.security import SecurityHeaders
from pharmaqms.kernel.keys import keyring_for
from pharmaqms.kernel.observability.requests import RequestObserver
from pharmaqms.lifecycle.distribution import api as distribution_api
from pharmaqms.lifecycle.distribution.inventory import api as distribution_inventory_api
from pharmaqms.lifecycle.distribution.productpage import api as product_page_api
from pharmaqms.lifecycle.distribution.recalls import api as distribution_recalls_api
from pharmaqms.lifecycle.distribution.routing import api as distribution_routing_api
from pharmaqms.lifecycle.distribution.serials import api as distribution_serials_api
from pharmaqms.lifecycle.production.batchrecords import api as production_batch_records_api
from pharmaqms.lifecycle.production.batchrecords import external_api as production_mesreview_api
from pharmaqms.lifecycle.production.kpi import api as production_kpi_api
from pharmaqms.lifecycle.production.materials import api as production_materials_api
from pharmaqms.lifecycle.production.monitoring import api as production_monitoring_api
from pharmaqms.lifecycle.production.nonconforming import api as production_nc_api
from pharmaqms.lifecycle.production.qc import api as production_qc_api
from pharmaqms.lifecycle.production.release import api as production_release_api
from pharmaqms.lifecycle.rnd.eln import api as rnd_eln_api
from pharmaqms.lifecycle.rnd.gates import api as rnd_gates_api
from pharmaqms.lifecycle.rnd.stability import api as rnd_stability_api
from pharmaqms.lifecycle.rnd.submissions import api as rnd_submission_api
from pharmaqms.lifecycle.use.cases import api as pv_cases_api
from pharmaqms.lifecycle.use.lots import api as pv_lots_api
from pharmaqms.lifecycle.use.psur import api as pv_psur_api
from pharmaqms.lifecycle.use.risk import api as pv_risk_api
from pharmaqms.lifecycle.use.signals import api as pv_signals_api
from pharmaqms.platform.data import api as data_api
from pharmaqms.platform.epcis_repository import api as epcis_api
from pharmaqms.platform.genealogy import api as genealogy_api
from pharmaqms.platform.masterdata import api as masterdata_api
from pharmaqms.platform.sensors import api as sensors_api
from pharmaqms.platform.traceability import api as traceability_api
from pharmaqms.quality import api as quality_links_api
from pharmaqms.quality.capa import api as capa_api
from pharmaqms.quality.changes import api as changes_api
from pharmaqms.quality.complaints import api as complaints_api
from pharmaqms.quality.deviations import api as deviations_api
from pharmaqms.quality.documents import api as documents_api
from pharmaqms.quality.risk import api as risk_api
from pharmaqms.quality.training import api as training_api
from pharmaqms.quality.training.competence import api as competence_api
from pharmaqms.web import access
from pharmaqms.web.api import kernel as kernel_api

STATIC = Path(__file__).parent / "static"

API_ROUTERS = (
    kernel_api.router,
    documents_api.router,
    training_api.router,
    competence_api.router,
    deviations_api.router,
    capa_api.router,
    changes_api.router,
    complaints_api.router,
    risk_api.router,
    quality_links_api.router,
    production_materials_api.router,
    production_qc_api.router,
    production_nc_api.router,
    production_monitoring_api.router,
    production_batch_records_api.router,
    production_release_api.router,
    production_mesreview_api.router,
    production_kpi_api.router,
    distribution_api.router,
    rnd_eln_api.router,
    rnd_stability_api.router,
    rnd_gates_api.router,
    rnd_submission_api.router,
    pv_cases_api.router,
    pv_lots_api.router,
    pv_psur_api.router,
    pv_risk_api.router,
    pv_signals_api.router,
    genealogy_api.router,
    epcis_api.router,
    distribution_recalls_api.router,
    distribution_routing_api.router,
    distribution_serials_api.router,
    distribution_inventory_api.router,
    product_page_api.router,
    masterdata_api.router,
    sensors_api.router,  # the sensors and shipments of the master data (see masterdata.api)
    traceability_api.router,
    data_api.router,
    compliance_api.router,
    apqr_api.router,
    process_analytics_api.router,
    configuration_api.router,
)


class QualityApp(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # The security headers wrap everything, even the handler of unexpected errors, so an
        # error page, a static file and a download get them like any page.
        # Outermost, the request id and the log line and latency of every request.
        return RequestObserver(SecurityHeaders(super().build_middleware_stack()))


def create_app(database: Database | None = None) -> FastAPI:
    if database is not None:
        set_database(database)
    # Refuse to start without the key file, or with one others may read: every audited write
    # needs it, and a served system that fails at its first write is worse than none.
    keyring_for(str((database or get_database()).engine.url))
    app = QualityApp(
        title="pharmaqms",
        version="0.1.0",
        description="Quality management for the whole life of a medicine.",
        openapi_url="/openapi.json",
        docs_url=None,  # served from this site, not a CDN (kernel.http.api_docs)
        redoc_url=None,
        # Before any route's own dependencies and its handler: text the databases can't
        # all store and query parameters a route does not take (or takes once) are refused
        # first, then who may call the route (deny by default).
        dependencies=[
            Depends(refuse_nul_characters),
            Depends(check_query_parameters),
            Depends(access.authorise),
        ],
    )
    problems.install(app)
    openapi.install(
        app,
        is_public=lambda method, path: isinstance(access.access_of(method, path), access.Public),
    )
    for router in API_ROUTERS:
        app.include_router(router)
    from pharmaqms.web.views import ROUTERS as VIEW_ROUTERS

    for router in VIEW_ROUTERS:
        app.include_router(router)
    api_docs.install(app, openapi_url="/openapi.json", title=app.title)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
