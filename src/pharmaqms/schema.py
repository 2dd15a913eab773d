"""Imports every module's tables so that the metadata is complete (for migrations, backup and
``audit verify``). Add a module's models here when you add the module."""

from __future__ import annotations

from pharmaqms.kernel import models as kernel_models
from pharmaqms.kernel.db import Base
from pharmaqms.quality.documents import models as document_models
from pharmaqms.quality.documents import workflow as document_workflow

MODULES = (kernel_models, document_models, document_workflow)

metadata = Base.metadata
