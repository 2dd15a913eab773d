"""Demo materials and suppliers, written through the services with the clock set back to when
each thing happened: an approved supplier list (one supplier whose qualification has run out,
one only proposed), material specifications, incoming lots (released, in quarantine, one expired,
one from the supplier no longer qualified) with the suppliers' certificates, and a QA override.

Products and materials the platform demo already made are reused; what is missing is created
here through the platform's master-data services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.materials import service
from pharmaqms.lifecycle.production.materials.models import SupplierApproval
from pharmaqms.lifecycle.production.materials.workflow import SUPPLIER_APPROVAL_WORKFLOW
from pharmaqms.lifecycle.production.qc import results, specifications
from pharmaqms.lifecycle.production.qc.demo_steps import approve_specification, certify, gtin
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Material, Supplier

MATERIALS = (
    ("API-PARA", "Paracetamol (API)", "api", "0871234500001"),
    ("EXC-MCC", "Microcrystalline cellulose PH-102", "excipient", "0871234500002"),
    ("EXC-MGST", "Magnesium stearate", "excipient", "0871234500003"),
)
SUPPLIERS = (
    ("SUP-ACME", "Acme Fine Chemicals GmbH", "DE"),
    ("SUP-BETA", "Beta Excipients Ltd", "GB"),
    ("SUP-GAMMA", "Gamma Trading SRL", "IT"),
)

ASSAY_API = specifications.TestInput(
    "ASSAY", "Assay (HPLC, dried basis)", "numeric", "%", 98.0, 102.0, 1, method="Ph. Eur. 0049"
)
WATER = specifications.TestInput(
    "WATER", "Water (Karl Fischer)", "numeric", "%", None, 0.5, 2, method="Ph. Eur. 2.5.12"
)
IDENTITY = specifications.TestInput(
    "IDENT", "Identification (IR)", "list", allowed_values=("conforms",), method="Ph. Eur. 2.2.24"
)
LOSS_ON_DRYING = specifications.TestInput(
    "LOD", "Loss on drying", "numeric", "%", None, 7.0, 1, method="Ph. Eur. 2.2.32"
)
MAGNESIUM = specifications.TestInput(
    "MG", "Magnesium (assay)", "numeric", "%", 4.0, 5.0, 1, method="Ph. Eur. 2.5.11"
)
MATERIAL_SPECS: dict[str, Sequence[specifications.TestInput]] = {
    "API-PARA": (ASSAY_API, WATER, IDENTITY),
    "EXC-MCC": (LOSS_ON_DRYING, IDENTITY),
    "EXC-MGST": (MAGNESIUM, IDENTITY),
}
CONFORMING: dict[str, Any] = {
    "ASSAY": (99.9, 0.4, "%"),
    "WATER": (0.21, 0.05, "%"),
    "LOD": (4.6, 0.5, "%"),
    "MG": (4.5, 0.1, "%"),
    "IDENT": "conforms",
}

# (lot, material, supplier, received days ago, shelf life in days, released?)
LOTS = (
    ("A2404", "API-PARA", "SUP-ACME", 390, 380, True),  # expired ten days ago
    ("A2501", "API-PARA", "SUP-ACME", 300, 1000, True),
    ("A2502", "API-PARA", "SUP-ACME", 150, 1000, True),
    ("A2503", "API-PARA", "SUP-ACME", 6, 1000, False),  # in quarantine, QC pending
    ("M2501", "EXC-MCC", "SUP-ACME", 200, 1100, True),
    ("G2501", "EXC-MGST", "SUP-BETA", 100, 900, True),  # supplier qualification lapsed since
)


def supplier_value(test: specifications.TestInput) -> dict[str, str]:
    """One line of a supplier's certificate, as suppliers print them."""
    planned = CONFORMING[test.test_code]
    if isinstance(planned, str):
        return {"test": test.test_name, "result": planned, "unit": "", "limits": "conforms"}
    low, high = test.lower_limit, test.upper_limit
    if low is not None and high is not None:
        limits = f"{low:g}-{high:g}"
    else:
        limits = f"max {high:g}" if high is not None else f"min {low:g}"
    return {
        "test": test.test_name,
        "result": f"{planned[0]:g}",
        "unit": planned[2],
        "limits": limits,
    }


def _ensure_master_data(session: Session, admin: Actor) -> None:
    for code, name, kind, body in MATERIALS:
        material = session.scalars(select(Material).where(Material.code == code)).first()
        if material is None:
            material = masterdata.add_material(
                session, actor=admin, code=code, name=name, kind=kind
            )
        if material.gtin is None:
            service.set_material_gtin(
                session, actor=admin, material_code=code, gtin=gtin(body), reason="GTIN on labels"
            )
    for code, name, country in SUPPLIERS:
        if session.scalars(select(Supplier).where(Supplier.code == code)).first() is None:
            masterdata.add_supplier(session, actor=admin, code=code, name=name, country=country)


def _qualify(
    session: Session,
    ctx: DemoContext,
    material: str,
    supplier: str,
    *,
    audited: date,
    until: date,
    site: str,
) -> SupplierApproval:
    qa = ctx.people["quinn.qa"]
    approval = service.propose_supplier(
        session, actor=qa, material_code=material, supplier_code=supplier, manufacturer_site=site
    )
    service.record_supplier_audit(
        session,
        actor=qa,
        approval_id=approval.id,
        audited_on=audited,
        outcome="On-site GMP audit: no critical or major findings; 3 minor closed.",
        qualified_until=until,
        next_audit_due_on=until - timedelta(days=60),
    )
    perform(
        session, SUPPLIER_APPROVAL_WORKFLOW, approval, "qualify", actor=qa, password=ctx.password
    )
    return approval


def conforming_results(
    session: Session,
    ctx: DemoContext,
    lot_id: int,
    tests: Sequence[specifications.TestInput],
    tested_at: datetime,
    sample: str,
) -> None:
    analyst = ctx.people["chen.qc"]
    for test in tests:
        planned = CONFORMING[test.test_code]
        if isinstance(planned, str):
            results.record_result(
                session,
                actor=analyst,
                lot_id=lot_id,
                sample_id=sample,
                test_code=test.test_code,
                tested_at=tested_at,
                text_value=planned,
            )
            continue
        mean, sd, unit = planned
        value = round(ctx.rng.gauss(mean, sd), 2)
        if test.upper_limit is not None:
            value = min(value, test.upper_limit * 0.95)
        if test.lower_limit is not None:
            value = max(value, test.lower_limit + 0.2)
        results.record_result(
            session,
            actor=analyst,
            lot_id=lot_id,
            sample_id=sample,
            test_code=test.test_code,
            tested_at=tested_at,
            value=value,
            unit=unit,
        )


def load(session: Session, ctx: DemoContext) -> None:
    if session.scalars(select(SupplierApproval.id)).first() is not None:
        return  # the approved supplier list exists: not a fresh database
    admin, supervisor = ctx.people["amelia.admin"], ctx.people["sofia.supervisor"]
    now = clock.now()
    today = now.date()
    _ensure_master_data(session, admin)
    with clock.frozen_at(now - timedelta(days=420)):
        _qualify(
            session,
            ctx,
            "API-PARA",
            "SUP-ACME",
            audited=today - timedelta(days=430),
            until=today + timedelta(days=320),
            site="Acme, Leverkusen plant 2",
        )
        _qualify(
            session,
            ctx,
            "EXC-MCC",
            "SUP-ACME",
            audited=today - timedelta(days=430),
            until=today + timedelta(days=320),
            site="Acme, Leverkusen plant 1",
        )
        # Beta's qualification ran out 25 days ago and has not been renewed.
        _qualify(
            session,
            ctx,
            "EXC-MGST",
            "SUP-BETA",
            audited=today - timedelta(days=440),
            until=today - timedelta(days=25),
            site="Beta, Runcorn",
        )
        spec_ids = {
            code: approve_specification(
                session,
                ctx,
                subject_kind="material",
                item_code=code,
                market="ALL",
                title=f"Incoming material specification {code}",
                tests=tests,
            )
            for code, tests in MATERIAL_SPECS.items()
        }
    service.propose_supplier(
        session,
        actor=ctx.people["quinn.qa"],
        material_code="EXC-MCC",
        supplier_code="SUP-GAMMA",
        manufacturer_site="Gamma, Milan (broker: manufacturer to be confirmed)",
    )
    for number, material, supplier, days_ago, shelf_life, released in LOTS:
        received = now - timedelta(days=days_ago)
        with clock.frozen_at(received):
            lot = service.receive_material_lot(
                session,
                actor=supervisor,
                material_code=material,
                supplier_code=supplier,
                lot_number=number,
                supplier_lot=f"{supplier[4:]}-{number}",
                expires_on=received.date() + timedelta(days=shelf_life),
                quantity=float(ctx.rng.choice((100, 200, 250, 500))),
                unit="kg",
                manufactured_on=received.date() - timedelta(days=30),
            )
            service.attach_certificate(
                session,
                actor=supervisor,
                lot_id=lot.id,
                certificate_number=f"{supplier[4:]}-COA-{number}",
                issued_on=received.date() - timedelta(days=5),
                values=[supplier_value(t) for t in MATERIAL_SPECS[material]],
            )
        if not released:
            continue
        with clock.frozen_at(received + timedelta(days=2)):
            conforming_results(
                session,
                ctx,
                lot.id,
                MATERIAL_SPECS[material],
                clock.now() - timedelta(hours=3),
                f"IN-{number}",
            )
            certify(session, ctx, lot.id, spec_ids[material])
    quarantined = service.material_lots(session, status="quarantine")
    urgent = next((lot for lot in quarantined if lot.lot_number == "A2503"), None)
    if urgent is not None:
        service.override_material_use(
            session,
            actor=ctx.people["rosa.qa"],
            lot_id=urgent.id,
            justification="Supplier CoA and identity test reviewed; full release testing "
            "running in parallel; needed for validation batch PV-03 only.",
            password=ctx.password,
            batch_reference="PV-03",
            valid_until=now + timedelta(days=3),
        )


register("production: materials and suppliers", load)
