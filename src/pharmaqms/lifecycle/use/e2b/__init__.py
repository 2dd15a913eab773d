"""ICH E2B(R3) individual case safety reports (ICSRs): read, write, check. A pure library: no
tables, no session; case processing builds on it.

- :func:`read_batch` – an ``MCCI_IN200100UV01`` batch → one result per ``PORR_IN049016UV``
  message: :class:`ParsedMessage` (the :class:`ICSR` and its plausibility findings) or
  :class:`RefusedMessage` (reason code, position, raw XML for quarantine). A file that cannot
  be read at all raises :class:`E2BDocumentRefused`.
- :func:`write_batch` – ICSRs → batch XML bytes; reading them back gives equal ICSRs.
- :func:`case_validity` (the four minimum criteria), :func:`structural_issues` (what the IG
  asks), :func:`schema_errors` (the ICH XSD, when the user has the files).
- :func:`to_fhir` / :func:`from_fhir` – the FHIR R4 ``AdverseEvent`` interchange, for the
  fields that have a place in FHIR (see ``fhir``).
"""

from pharmaqms.lifecycle.use.e2b.dates import HL7Time, Precision
from pharmaqms.lifecycle.use.e2b.fhir import from_fhir, to_fhir
from pharmaqms.lifecycle.use.e2b.findings import plausibility_findings
from pharmaqms.lifecycle.use.e2b.icsr import (
    ICSR,
    DocumentReason,
    E2BDocumentRefused,
    Finding,
    FindingCode,
    MessageResult,
    ParsedMessage,
    RefusalReason,
    RefusedMessage,
)
from pharmaqms.lifecycle.use.e2b.read import DEFAULT_MAX_BYTES, read_batch
from pharmaqms.lifecycle.use.e2b.validate import (
    Criterion,
    E2BSchemaUnavailable,
    Severity,
    ValidationIssue,
    Validity,
    case_validity,
    configured_schema_errors,
    export_blockers,
    schema_errors,
    structural_issues,
)
from pharmaqms.lifecycle.use.e2b.write import E2BExportRefused, write_batch

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ICSR",
    "Criterion",
    "DocumentReason",
    "E2BDocumentRefused",
    "E2BExportRefused",
    "E2BSchemaUnavailable",
    "Finding",
    "FindingCode",
    "HL7Time",
    "MessageResult",
    "ParsedMessage",
    "Precision",
    "RefusalReason",
    "RefusedMessage",
    "Severity",
    "ValidationIssue",
    "Validity",
    "case_validity",
    "configured_schema_errors",
    "export_blockers",
    "from_fhir",
    "plausibility_findings",
    "read_batch",
    "schema_errors",
    "structural_issues",
    "to_fhir",
    "write_batch",
]
