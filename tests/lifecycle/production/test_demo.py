"""The production demo loaders on a fresh database: what a visitor should find."""

from __future__ import annotations

from random import Random

from sqlalchemy import select
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.materials import demo as materials_demo
from pharmaqms.lifecycle.production.materials.models import MaterialUseOverride, SupplierApproval
from pharmaqms.lifecycle.production.materials.scan import scan
from pharmaqms.lifecycle.production.materials.service import material_by_code
from pharmaqms.lifecycle.production.nonconforming import demo as nonconforming_demo
from pharmaqms.lifecycle.production.nonconforming.models import NonconformingProduct
from pharmaqms.lifecycle.production.qc import demo as qc_demo
from pharmaqms.lifecycle.production.qc.models import OosInvestigation, QcResult

DEMO_NAMES = {
    "amelia.admin": "admin",
    "quinn.qa": "qa",
    "rosa.qa": "qa2",
    "chen.qc": "qc",
    "sofia.supervisor": "supervisor",
    "peter.qp": "qp",
}


def test_the_demo_has_every_case_a_visitor_looks_for(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    ctx = DemoContext(
        db,
        {demo: people.actor(test) for demo, test in DEMO_NAMES.items()},
        PASSWORD,
        Random(7),
        scale=0.3,
    )
    for loader in (materials_demo.load, qc_demo.load, nonconforming_demo.load):
        with unit_of_work(db) as s:
            loader(s, ctx)
    with unit_of_work(db, write=False) as s:
        approvals = s.scalars(select(SupplierApproval)).all()
        assert sorted(a.status for a in approvals) == [
            "proposed",
            "qualified",
            "qualified",
            "qualified",
        ]
        lapsed = [
            a for a in approvals if a.qualified_until and a.qualified_until < clock.now().date()
        ]
        assert len(lapsed) == 1
        [confirmed, invalidated] = s.scalars(select(OosInvestigation).order_by(OosInvestigation.id))
        assert (confirmed.status, confirmed.conclusion) == ("closed", "confirmed")
        assert invalidated.status == "closed"
        original = s.get(QcResult, invalidated.result_id)
        assert original is not None and (original.status, original.value) == ("invalidated", 91.2)
        [retest] = s.scalars(select(QcResult).where(QcResult.retest_of_id == original.id))
        assert (retest.value, retest.outcome) == (100.1, "pass")
        ncs = {nc.source_type: nc for nc in s.scalars(select(NonconformingProduct))}
        assert (ncs["oos_investigation"].status, ncs["oos_investigation"].disposition) == (
            "closed",
            "reject",
        )
        assert ncs["report"].status == "proposed"
        assert s.scalars(select(MaterialUseOverride.status)).all() == ["approved"]
        mgst = material_by_code(s, "EXC-MGST")
        answer = scan(s, f"(01){mgst.gtin}(10)G2501", at=clock.now())
        assert answer.headline == "SUPPLIER QUALIFICATION EXPIRED — DO NOT USE"
