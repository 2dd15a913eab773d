"""Imports every module's tables so that the metadata is complete (for migrations, backup and
``audit verify``). Add a module's models here when you add the module."""

from __future__ import annotations

from pharmaqms.compliance import models as compliance_models
from pharmaqms.compliance import service as compliance_service
from pharmaqms.compliance.apqr import models as apqr_models
from pharmaqms.compliance.apqr import workflow as apqr_workflow
from pharmaqms.compliance.configuration import service as configuration_service
from pharmaqms.kernel import models as kernel_models
from pharmaqms.kernel.configuration import models as kernel_config_models
from pharmaqms.kernel.db import Base
from pharmaqms.kernel.jobs import health as kernel_job_health
from pharmaqms.kernel.jobs import housekeeping as kernel_job_housekeeping
from pharmaqms.kernel.jobs import models as kernel_job_models
from pharmaqms.kernel.notifications import jobs as kernel_notification_jobs
from pharmaqms.kernel.notifications import models as kernel_notification_models
from pharmaqms.kernel.observability import models as kernel_observability_models
from pharmaqms.lifecycle.distribution import live as distribution_live
from pharmaqms.lifecycle.distribution import lot_facts as distribution_lot_facts
from pharmaqms.lifecycle.distribution import models as distribution_models
from pharmaqms.lifecycle.distribution import workflow as distribution_workflow
from pharmaqms.lifecycle.distribution.recalls import models as distribution_recall_models
from pharmaqms.lifecycle.distribution.recalls import workflow as distribution_recall_workflow
from pharmaqms.lifecycle.distribution.routing import models as distribution_routing_models
from pharmaqms.lifecycle.distribution.routing import service as distribution_routing_service
from pharmaqms.lifecycle.distribution.routing import workflow as distribution_routing_workflow
from pharmaqms.lifecycle.distribution.serials import models as distribution_serial_models
from pharmaqms.lifecycle.distribution.serials import workflow as distribution_serial_workflow
from pharmaqms.lifecycle.production import lot_facts as production_lot_facts
from pharmaqms.lifecycle.production import transfer as production_transfer
from pharmaqms.lifecycle.production.batchrecords import (
    external_models as production_mesreview_models,
)
from pharmaqms.lifecycle.production.batchrecords import (
    external_workflow as production_mesreview_workflow,
)
from pharmaqms.lifecycle.production.batchrecords import models as production_batch_record_models
from pharmaqms.lifecycle.production.batchrecords import report as production_batch_record_report
from pharmaqms.lifecycle.production.batchrecords import workflow as production_batch_record_workflow
from pharmaqms.lifecycle.production.materials import models as production_material_models
from pharmaqms.lifecycle.production.materials import service as production_material_service
from pharmaqms.lifecycle.production.materials import workflow as production_material_workflow
from pharmaqms.lifecycle.production.monitoring import live as production_monitoring_live
from pharmaqms.lifecycle.production.monitoring import models as production_monitoring_models
from pharmaqms.lifecycle.production.monitoring import workflow as production_monitoring_workflow
from pharmaqms.lifecycle.production.nonconforming import deviations as production_nc_deviations
from pharmaqms.lifecycle.production.nonconforming import models as production_nc_models
from pharmaqms.lifecycle.production.nonconforming import report as production_nc_report
from pharmaqms.lifecycle.production.nonconforming import workflow as production_nc_workflow
from pharmaqms.lifecycle.production.qc import arrivals as production_qc_arrivals
from pharmaqms.lifecycle.production.qc import batch_results as production_batch_results
from pharmaqms.lifecycle.production.qc import investigations as production_qc_investigations
from pharmaqms.lifecycle.production.qc import models as production_qc_models
from pharmaqms.lifecycle.production.qc import report as production_qc_report
from pharmaqms.lifecycle.production.qc import workflow as production_qc_workflow
from pharmaqms.lifecycle.production.release import models as production_release_models
from pharmaqms.lifecycle.production.release import rule_sets as production_release_rule_sets
from pharmaqms.lifecycle.production.release import service as production_release_service
from pharmaqms.lifecycle.production.release import workflow as production_release_workflow
from pharmaqms.lifecycle.rnd.eln import models as rnd_eln_models
from pharmaqms.lifecycle.rnd.eln import workflow as rnd_eln_workflow
from pharmaqms.lifecycle.rnd.gates import models as rnd_gate_models
from pharmaqms.lifecycle.rnd.gates import workflow as rnd_gate_workflow
from pharmaqms.lifecycle.rnd.stability import budget as rnd_stability_budget
from pharmaqms.lifecycle.rnd.stability import ctd as rnd_stability_ctd
from pharmaqms.lifecycle.rnd.stability import lims as rnd_stability_lims
from pharmaqms.lifecycle.rnd.stability import models as rnd_stability_models
from pharmaqms.lifecycle.rnd.stability import workflow as rnd_stability_workflow
from pharmaqms.lifecycle.rnd.submissions import models as rnd_submission_models
from pharmaqms.lifecycle.rnd.submissions import workflow as rnd_submission_workflow
from pharmaqms.lifecycle.rnd.transfer import models as rnd_transfer_models
from pharmaqms.lifecycle.rnd.transfer import workflow as rnd_transfer_workflow
from pharmaqms.lifecycle.use.cases import handover as pv_case_handover
from pharmaqms.lifecycle.use.cases import models as pv_case_models
from pharmaqms.lifecycle.use.cases import sources as pv_case_sources
from pharmaqms.lifecycle.use.cases import workflow as pv_case_workflow
from pharmaqms.lifecycle.use.psur import models as pv_psur_models
from pharmaqms.lifecycle.use.psur import workflow as pv_psur_workflow
from pharmaqms.lifecycle.use.signals import models as pv_signal_models
from pharmaqms.lifecycle.use.signals import workflow as pv_signal_workflow
from pharmaqms.platform import permissions as platform_permissions
from pharmaqms.platform.connectors import epcis_store as epcis_connector
from pharmaqms.platform.connectors import faers as faers_connector
from pharmaqms.platform.connectors import gs1_scan as gs1_scan_connector
from pharmaqms.platform.connectors import lims as lims_connector
from pharmaqms.platform.connectors import mes as mes_connector
from pharmaqms.platform.connectors import sensors as sensors_connector
from pharmaqms.platform.connectors import wms as wms_connector
from pharmaqms.platform.epcis_repository import delivery as epcis_subscription_delivery
from pharmaqms.platform.epcis_repository import models as epcis_repository_models
from pharmaqms.platform.genealogy import facts as platform_lot_facts
from pharmaqms.platform.genealogy import models as genealogy_models
from pharmaqms.platform.ingest import models as ingest_models
from pharmaqms.platform.inventory import match_models as inventory_match_models
from pharmaqms.platform.masterdata import hold_models
from pharmaqms.platform.masterdata import models as masterdata_models
from pharmaqms.platform.sensors import models as sensor_models
from pharmaqms.platform.timeseries import models as timeseries_models
from pharmaqms.platform.traceability import models as traceability_models
from pharmaqms.platform.traceability import scans as scan_models
from pharmaqms.quality import data_loss as quality_data_loss
from pharmaqms.quality import genealogy as quality_genealogy
from pharmaqms.quality import links as quality_links
from pharmaqms.quality.capa import effectiveness as capa_effectiveness
from pharmaqms.quality.capa import models as capa_models
from pharmaqms.quality.capa import workflow as capa_workflow
from pharmaqms.quality.changes import models as change_models
from pharmaqms.quality.changes import workflow as change_workflow
from pharmaqms.quality.complaints import models as complaint_models
from pharmaqms.quality.complaints import workflow as complaint_workflow
from pharmaqms.quality.deviations import models as deviation_models
from pharmaqms.quality.deviations import workflow as deviation_workflow
from pharmaqms.quality.documents import models as document_models
from pharmaqms.quality.documents import workflow as document_workflow
from pharmaqms.quality.risk import models as risk_models
from pharmaqms.quality.risk import workflow as risk_workflow
from pharmaqms.quality.training import document_control as training_document_control
from pharmaqms.quality.training import models as training_models
from pharmaqms.quality.training import workflow as training_workflow
from pharmaqms.quality.training.competence import models as competence_models
from pharmaqms.quality.training.competence import workflow as competence_workflow

MODULES = (
    kernel_models,
    kernel_config_models,
    kernel_notification_models,
    kernel_job_models,
    kernel_job_housekeeping,
    kernel_job_health,
    kernel_notification_jobs,
    kernel_observability_models,
    platform_permissions,
    ingest_models,
    masterdata_models,
    timeseries_models,
    traceability_models,
    inventory_match_models,
    lims_connector,
    mes_connector,
    wms_connector,
    faers_connector,
    gs1_scan_connector,
    scan_models,
    sensors_connector,
    sensor_models,
    epcis_connector,
    genealogy_models,
    epcis_repository_models,
    epcis_subscription_delivery,
    distribution_recall_models,
    distribution_recall_workflow,
    distribution_routing_models,
    distribution_routing_service,
    distribution_routing_workflow,
    distribution_serial_models,
    distribution_serial_workflow,
    hold_models,
    document_models,
    document_workflow,
    training_models,
    training_workflow,
    # Registers training with document control (documents.training_port): the job roles a
    # document's training reaches, and the training assigned / cancelled as versions change.
    training_document_control,
    competence_models,
    competence_workflow,
    quality_links,
    # Registers the data-loss finding as the listener of sensor-sequence gaps.
    quality_data_loss,
    deviation_models,
    deviation_workflow,
    capa_models,
    capa_workflow,
    change_models,
    change_workflow,
    complaint_models,
    complaint_workflow,
    risk_models,
    risk_workflow,
    production_material_models,
    production_material_workflow,
    # registers the release of a material lot whose certificate QA approves (qc/material_release)
    production_material_service,
    production_qc_models,
    production_qc_workflow,
    production_nc_models,
    production_nc_workflow,
    production_monitoring_models,
    production_monitoring_workflow,
    production_batch_record_models,
    production_batch_record_workflow,
    production_mesreview_models,
    production_mesreview_workflow,
    production_release_models,
    production_release_workflow,
    # registers the release rules' trace shown on the batch record (batchrecords/release_trace)
    production_release_service,
    # Registers the live SPC evaluation as the platform's process reading listener.
    production_monitoring_live,
    production_qc_arrivals,
    production_nc_deviations,
    distribution_models,
    distribution_workflow,
    # Registers the live cold-chain evaluation as the listener of sensor deliveries.
    distribution_live,
    rnd_eln_models,
    rnd_eln_workflow,
    rnd_stability_models,
    rnd_stability_workflow,
    # Takes stability samples over from every LIMS delivery.
    rnd_stability_lims,
    rnd_gate_models,
    rnd_gate_workflow,
    # The development recipe, and its transfer's closure condition on change control.
    rnd_transfer_models,
    rnd_transfer_workflow,
    # Production receives technology transfers (drafts its master and specification).
    production_transfer,
    # Submission documents (CTD 3.2.P.8, 3.2.P.2, 3.2.P.5.4) generated from the data.
    rnd_submission_models,
    rnd_submission_workflow,
    # Production answers the batch analyses of a dossier (quality.batch_results).
    production_batch_results,
    pv_case_models,
    pv_case_workflow,
    pv_psur_models,
    pv_psur_workflow,
    pv_signal_models,
    pv_signal_workflow,
    # Opens the PV case when a complaint is triaged as an adverse event.
    pv_case_handover,
    # Turns every openFDA / FAERS delivery into cases, whatever way it reached the platform.
    pv_case_sources,
    # Deviations and complaints join a lot's genealogy.
    quality_genealogy,
    # Every module's facts about a lot, for the lot safety review.
    platform_lot_facts,
    production_lot_facts,
    distribution_lot_facts,
    # What the printed record reports of OOS investigations, nonconformances and batch records
    # show beyond their fields.
    production_qc_report,
    production_nc_report,
    production_batch_record_report,
    # The stability study's report carries the CTD 3.2.P.8 summary and data tables.
    rnd_stability_ctd,
    # Grants QA the permission to put a product's stability budget in force from its data.
    rnd_stability_budget,
    compliance_models,
    # Grants QA the permission to manage the regulations register.
    compliance_service,
    apqr_models,
    apqr_workflow,
    # Registers the OOS phase I checklist as controlled configuration.
    production_qc_investigations,
    # Registers the CAPA effectiveness criteria templates as controlled configuration.
    capa_effectiveness,
    # Registers the release rule sets per product family as controlled configuration.
    production_release_rule_sets,
    # Configuration changes under change control (drafts, sandbox runs, approvals).
    configuration_service,
)

metadata = Base.metadata
