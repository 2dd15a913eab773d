"""Production KPIs API: the same numbers as the KPI page. Thin."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.lifecycle.production.http import PREFIX
from pharmaqms.lifecycle.production.kpi import service
from pharmaqms.lifecycle.production.kpi.schemas import (
    CapabilityMonthOut,
    CapabilityOut,
    CycleTimeOut,
    KpisOut,
    MonthlyRateOut,
    TestOosOut,
)

router = APIRouter(prefix=PREFIX, tags=["production: KPIs"])


def _rates(rates: tuple[service.MonthlyRate, ...]) -> list[MonthlyRateOut]:
    return [
        MonthlyRateOut(month=r.month, numerator=r.numerator, denominator=r.denominator, rate=r.rate)
        for r in rates
    ]


@router.get("/kpi", response_model=KpisOut)
def kpis(
    actor: ActorDep,
    request: Request,
    product: str = Query(min_length=1, max_length=40),
    months: int = Query(default=12, ge=1, le=60),
) -> KpisOut:
    actor.require("records.read", "read the production KPIs")
    with transaction(request, write=False) as session:
        found = service.production_kpis(session, product, months=months)
    return KpisOut(
        product_code=found.product_code,
        product_name=found.product_name,
        months=list(found.months),
        failure_rate=_rates(found.failure_rate),
        right_first_time=_rates(found.right_first_time),
        cycle_time=[
            CycleTimeOut(
                month=c.month,
                releases=c.releases,
                median_hours=c.median_hours,
                p90_hours=c.p90_hours,
            )
            for c in found.cycle_time
        ],
        oos=[TestOosOut(test_code=t.test_code, months=_rates(t.months)) for t in found.oos],
        capability=[
            CapabilityOut(
                parameter_id=c.parameter_id,
                subject=c.subject,
                months=[
                    CapabilityMonthOut(
                        month=m.month, points=m.points, cpk=m.cpk, ppk=m.ppk, reason=m.reason
                    )
                    for m in c.months
                ],
            )
            for c in found.capability
        ],
    )
