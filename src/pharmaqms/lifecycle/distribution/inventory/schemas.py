"""API shapes of distribution's inventory: the stock register, a FEFO proposal, the expiry
register and the reorder register."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from pharmaqms.lifecycle.distribution.inventory.expiry import Reminder
from pharmaqms.lifecycle.distribution.inventory.fefo import Proposal
from pharmaqms.lifecycle.distribution.inventory.reorder import Replenishment
from pharmaqms.platform.inventory.matching import Finding
from pharmaqms.platform.inventory.stock import StockLine


class StockOut(BaseModel):
    location: str
    product_code: str
    product_name: str
    gtin: str
    lot_number: str
    expires_on: date | None
    status: str = Field(description="derived: released, quarantine, on_hold, expired, …")
    why: str
    lot_status: str = Field(description="the lot's status as recorded in master data")
    quantity: float
    unit: str

    @classmethod
    def of(cls, line: StockLine) -> StockOut:
        return cls(
            location=line.location_code,
            product_code=line.product_code,
            product_name=line.product_name,
            gtin=line.gtin,
            lot_number=line.lot_number,
            expires_on=line.expires_on,
            status=line.status.value,
            why=line.why,
            lot_status=line.lot_status,
            quantity=line.quantity,
            unit=line.unit,
        )


class PickOut(BaseModel):
    lot_number: str
    location: str
    expires_on: date
    quantity: float
    remaining_days: int


class ReasonOut(BaseModel):
    rule: str
    reason: str
    basis: str


class ExcludedOut(BaseModel):
    lot_number: str
    location: str
    expires_on: date | None
    quantity: float
    reasons: list[ReasonOut]


class ProposalOut(BaseModel):
    quantity: float
    proposed: float
    shortfall: float
    complete: bool
    picks: list[PickOut]
    excluded: list[ExcludedOut]

    @classmethod
    def of(cls, proposal: Proposal) -> ProposalOut:
        return cls(
            quantity=proposal.quantity,
            proposed=proposal.proposed,
            shortfall=proposal.shortfall,
            complete=proposal.complete,
            picks=[
                PickOut(
                    lot_number=p.lot_number,
                    location=p.location_code,
                    expires_on=p.expires_on,
                    quantity=p.quantity,
                    remaining_days=p.remaining_days,
                )
                for p in proposal.picks
            ],
            excluded=[
                ExcludedOut(
                    lot_number=e.lot_number,
                    location=e.location_code,
                    expires_on=e.expires_on,
                    quantity=e.quantity,
                    reasons=[ReasonOut(rule=c, reason=r, basis=b) for c, r, b in e.reasons],
                )
                for e in proposal.excluded
            ],
        )


class ReminderOut(BaseModel):
    stock: StockOut
    days_left: int | None
    flag: str

    @classmethod
    def of(cls, reminder: Reminder) -> ReminderOut:
        return cls(
            stock=StockOut.of(reminder.line), days_left=reminder.days_left, flag=reminder.flag
        )


class ReplenishmentOut(BaseModel):
    product_code: str
    product_name: str
    on_hand_released: float
    demand_mean_per_day: float
    demand_sd_per_day: float
    z: float
    safety_stock: float
    reorder_point: float
    order_up_to: float
    proposed: float
    due: bool

    @classmethod
    def of(cls, r: Replenishment) -> ReplenishmentOut:
        return cls(
            product_code=r.product_code,
            product_name=r.product_name,
            on_hand_released=r.on_hand,
            demand_mean_per_day=r.demand.mean,
            demand_sd_per_day=r.demand.sd,
            z=r.point.z,
            safety_stock=r.point.safety_stock,
            reorder_point=r.point.rop,
            order_up_to=r.order_up_to,
            proposed=r.proposed,
            due=r.due,
        )


class FindingOut(BaseModel):
    """A reconciliation finding between the WMS/TMS and EPCIS records of stock movements."""

    kind: str = Field(description="quantity_differs, only_wms or only_epcis")
    product_code: str
    lot_number: str
    location: str
    direction: str = Field(description="'out of' or 'into' the location")
    moved_at: datetime
    counted_movement_id: int = Field(description="the movement counted in stock")
    other_movement_id: int | None = Field(description="the linked record not counted again")
    counted_quantity: float
    other_quantity: float | None
    unit: str
    detail: str

    @classmethod
    def of(cls, finding: Finding) -> FindingOut:
        return cls(
            kind=finding.kind,
            product_code=finding.item_code,
            lot_number=finding.lot_number,
            location=finding.location_code,
            direction=finding.direction,
            moved_at=finding.moved_at,
            counted_movement_id=finding.counted_id,
            other_movement_id=finding.other_id,
            counted_quantity=finding.counted_quantity,
            other_quantity=finding.other_quantity,
            unit=finding.unit,
            detail=finding.detail,
        )
