"""Imports every module's tables so that the metadata is complete (for migrations, backup and
``audit verify``). Add a module's models here when you add the module."""

from __future__ import annotations

from pharmaqms.kernel import models as kernel_models
from pharmaqms.kernel.db import Base
from pharmaqms.platform import permissions as platform_permissions
from pharmaqms.platform.connectors import epcis_store as epcis_connector
from pharmaqms.platform.connectors import lims as lims_connector
from pharmaqms.platform.genealogy import models as genealogy_models
from pharmaqms.platform.ingest import models as ingest_models
from pharmaqms.platform.masterdata import models as masterdata_models
from pharmaqms.platform.timeseries import models as timeseries_models
from pharmaqms.platform.traceability import models as traceability_models
from pharmaqms.quality.documents import models as document_models
from pharmaqms.quality.documents import workflow as document_workflow

MODULES = (
    kernel_models,
    platform_permissions,
    ingest_models,
    masterdata_models,
    timeseries_models,
    traceability_models,
    lims_connector,
    epcis_connector,
    genealogy_models,
    document_models,
    document_workflow,
)

metadata = Base.metadata
