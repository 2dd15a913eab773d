"""Who may deliver and manage platform data."""

from __future__ import annotations

from pharmaqms.kernel.roles import grant

grant(
    "data.ingest",
    "admin",
    "qa",
    "qc_analyst",
    "production_supervisor",
    "logistics",
    "pv_officer",
    "integration",
)
grant("data.manage", "admin", "qa")
grant(
    "data.export",
    "admin",
    "qa",
    "qc_analyst",
    "production_supervisor",
    "logistics",
    "pv_officer",
    "qualified_person",
)
# Keeping named EPCIS queries (the repository's stored queries) for trading partners and reports.
grant("epcis.queries", "admin", "qa", "logistics", "integration")
