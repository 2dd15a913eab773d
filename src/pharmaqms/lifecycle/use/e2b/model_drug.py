"""Section G of the ICSR: the drugs, how they were given, and the drug–reaction matrix.

The batch / lot number (G.k.4.r.7) is the link from a case to our own lots: it is kept exactly
as reported (no trimming of leading zeros, no case folding), and matching is left to the
platform's traceability, which knows our numbering."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pharmaqms.lifecycle.use.e2b.codes import (
    ActionTaken,
    AdditionalDrugInfo,
    DrugRole,
    Recurrence,
)
from pharmaqms.lifecycle.use.e2b.model import (
    Date,
    MedDRA,
    Quantity,
    TermId,
    Text,
    el,
    req,
)


@dataclass(frozen=True)
class Substance:
    """G.k.2.3.r: an active ingredient and its strength."""

    name: str | None = el("G.k.2.3.r.1", None)
    term: TermId | None = el("G.k.2.3.r.2", None)
    strength: Quantity | None = el("G.k.2.3.r.3", None)


@dataclass(frozen=True)
class Dosage:
    """G.k.4.r: one dosage regimen of a drug (repeat for each change of dose or lot)."""

    dose: Quantity | None = el("G.k.4.r.1", None)
    frequency: Decimal | None = el("G.k.4.r.2", None)  # number of units in the interval
    frequency_unit: str | None = el("G.k.4.r.3", None)  # definition of the interval unit
    start: Date = el("G.k.4.r.4", None)
    end: Date = el("G.k.4.r.5", None)
    duration: Quantity | None = el("G.k.4.r.6", None)
    batch_lot: Text = el("G.k.4.r.7", None)
    text: str | None = el("G.k.4.r.8", None)
    form_text: Text = el("G.k.4.r.9.1", None)
    form_term: TermId | None = el("G.k.4.r.9.2", None)
    route_text: Text = el("G.k.4.r.10.1", None)
    route_term: TermId | None = el("G.k.4.r.10.2", None)
    parent_route_text: Text = el("G.k.4.r.11.1", None)
    parent_route_term: TermId | None = el("G.k.4.r.11.2", None)


@dataclass(frozen=True)
class Indication:
    """G.k.7.r: an indication for use in the case."""

    text: Text = el("G.k.7.r.1", None)
    meddra: MedDRA | None = el("G.k.7.r.2", None)


@dataclass(frozen=True)
class Relatedness:
    """G.k.9.i.2.r: one assessment of relatedness of the drug to the reaction."""

    source: str | None = el("G.k.9.i.2.r.1", None)
    method: str | None = el("G.k.9.i.2.r.2", None)
    result: str | None = el("G.k.9.i.2.r.3", None)


@dataclass(frozen=True)
class DrugReactionAssessment:
    """G.k.9.i: this drug against one reaction (referred to by the reaction's ``ref_id``)."""

    reaction_ref: str = req("G.k.9.i.1")
    relatedness: tuple[Relatedness, ...] = el("G.k.9.i.2.r", ())
    interval_from_start: Quantity | None = el("G.k.9.i.3.1", None)
    interval_from_last_dose: Quantity | None = el("G.k.9.i.3.2", None)
    recurrence: Recurrence | None = el("G.k.9.i.4", None)


@dataclass(frozen=True)
class Drug:
    """G.k: one drug. ``ref_id`` is its XML id, which the causality components refer to."""

    ref_id: str = req("G.k")
    role: DrugRole | None = el("G.k.1", None)
    mpid: TermId | None = el("G.k.2.1.1", None)
    phpid: TermId | None = el("G.k.2.1.2", None)
    product_name: str | None = el("G.k.2.2", None)
    substances: tuple[Substance, ...] = el("G.k.2.3.r", ())
    obtained_country: str | None = el("G.k.2.4", None)
    blinded: bool | None = el("G.k.2.5", None)
    authorisation_number: str | None = el("G.k.3.1", None)
    authorisation_country: str | None = el("G.k.3.2", None)
    authorisation_holder: str | None = el("G.k.3.3", None)
    dosages: tuple[Dosage, ...] = el("G.k.4.r", ())
    cumulative_dose: Quantity | None = el("G.k.5", None)
    gestation_at_exposure: Quantity | None = el("G.k.6", None)
    indications: tuple[Indication, ...] = el("G.k.7.r", ())
    action_taken: ActionTaken | None = el("G.k.8", None)
    assessments: tuple[DrugReactionAssessment, ...] = el("G.k.9.i", ())
    additional_info: tuple[AdditionalDrugInfo, ...] = el("G.k.10.r", ())
    additional_info_text: str | None = el("G.k.11", None)

    @property
    def lot_numbers(self) -> tuple[str, ...]:
        """The batch / lot numbers reported for this drug (null flavours left out)."""
        return tuple(d.batch_lot for d in self.dosages if isinstance(d.batch_lot, str))
