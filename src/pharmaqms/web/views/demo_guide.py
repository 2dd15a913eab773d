"""What a demonstration instance shows a person on their first page: what the demo holds and,
for each of their roles, where to start. Shown only when ``PHARMAQMS_DEMO=1`` (``make run``);
a real installation never shows it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Start:
    text: str
    url: str


HOLDS = (
    "A year of a small company making paracetamol tablets and an influenza vaccine: batches "
    "from the MES and QC results from the LIMS (with the quarantine's corrections), batch "
    "records and releases, SPC on the process, deviations, CAPA, changes and complaints, "
    "controlled documents and training, cold-chain sensors with alarms and excursions, EPCIS "
    "events from the packing line to pharmacies, a recall, adverse-event cases and signals, "
    "R&D projects with stage gates and stability studies, and the regulations register."
)

# Role → where its work begins, in the order a newcomer would take it.
STARTS: dict[str, tuple[Start, ...]] = {
    "admin": (
        Start("Users, roles and security alerts", "/admin/users"),
        Start("Data sources and what the quarantine holds", "/data/sources"),
    ),
    "qa": (
        Start("Your tasks below: deviations to classify, CAPA plans, signatures", "/"),
        Start("Deviations register", "/deviations"),
        Start("Outcome dashboard", "/compliance/outcomes"),
        Start("Cold-chain alarms waiting for assessment", "/distribution/alarms"),
    ),
    "qc_analyst": (
        Start("QC testing and OOS investigations", "/production/qc"),
        Start("Stability pulls due", "/rnd/stability"),
    ),
    "production_operator": (
        Start("Scan a container before use", "/production/scan"),
        Start("Batch records to execute", "/production/batch-records"),
    ),
    "production_supervisor": (
        Start("Batch records and their exceptions", "/production/batch-records"),
        Start("SPC alerts on the process", "/production/monitoring/alerts"),
    ),
    "qualified_person": (
        Start("Batches waiting for release, with the checklist", "/production/release"),
        Start("Production KPIs", "/production/kpi"),
    ),
    "pv_officer": (
        Start("Adverse-event cases and their reporting clocks", "/pv/cases"),
        Start("Signals", "/pv/signals"),
    ),
    "qppv": (
        Start("Signals to validate and assess", "/pv/signals"),
        Start("Adverse-event cases", "/pv/cases"),
    ),
    "rd_scientist": (
        Start("The lab notebook", "/rnd"),
        Start("Stage gates of the projects", "/rnd/gates"),
    ),
    "regulatory_affairs": (
        Start("Stage gates waiting for your approval", "/rnd/gates"),
        Start("Dossier sections (CTD Module 3) to review", "/rnd/submissions"),
        Start("Regulations register", "/compliance/regulations"),
    ),
    "logistics": (
        Start("Stock on hand", "/distribution/inventory"),
        Start("FEFO picking", "/distribution/inventory/fefo"),
        Start("Cold-chain alarms", "/distribution/alarms"),
        Start("Route planning", "/distribution/routes"),
    ),
    "auditor": (
        Start("The audit trail", "/audit"),
        Start("Validation evidence (Part 11, Annex 11)", "/compliance/validation"),
        Start("Regulations and what meets them", "/compliance/traceability"),
    ),
}


def starts_for(roles: frozenset[str]) -> list[tuple[str, tuple[Start, ...]]]:
    """(role, where to start) for each of the person's roles that has a guide, by role name."""
    return [(role, STARTS[role]) for role in sorted(roles) if role in STARTS]
