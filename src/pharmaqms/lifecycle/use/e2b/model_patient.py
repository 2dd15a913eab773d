"""Section D of the ICSR: the patient, their history and death, and (D.10) the parent in a
parent–child or foetus report."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pharmaqms.lifecycle.use.e2b.codes import AgeGroup, NullFlavor, Sex
from pharmaqms.lifecycle.use.e2b.model import (
    Date,
    Flag,
    MedDRA,
    Quantity,
    TermId,
    Text,
    el,
)


@dataclass(frozen=True)
class MedicalHistoryEpisode:
    """D.7.1.r (and D.10.7.1.r): a disease, surgery or condition in the relevant history."""

    meddra: MedDRA | None = el("D.7.1.r.1", None)
    start: Date = el("D.7.1.r.2", None)
    continuing: Flag = el("D.7.1.r.3", None)
    end: Date = el("D.7.1.r.4", None)
    comments: str | None = el("D.7.1.r.5", None)
    family_history: bool | None = el("D.7.1.r.6", None)  # not held for the parent (D.10)


@dataclass(frozen=True)
class PastDrug:
    """D.8.r (and D.10.8.r): a drug taken before, with why and what it did."""

    name: Text = el("D.8.r.1", None)
    mpid: TermId | None = el("D.8.r.2", None)
    phpid: TermId | None = el("D.8.r.3", None)
    start: Date = el("D.8.r.4", None)
    end: Date = el("D.8.r.5", None)
    indication: MedDRA | None = el("D.8.r.6", None)
    reaction: MedDRA | None = el("D.8.r.7", None)


@dataclass(frozen=True)
class CauseOfDeath:
    """D.9.2.r (reported) or D.9.4.r (autopsy-determined) cause of death."""

    meddra: MedDRA | None = el("D.9.2.r.1", None)
    text: str | None = el("D.9.2.r.2", None)


@dataclass(frozen=True)
class Death:
    """D.9: in case of death."""

    date: Date = el("D.9.1", None)
    reported_causes: tuple[CauseOfDeath, ...] = el("D.9.2.r", ())
    autopsy: Flag = el("D.9.3", None)
    autopsy_causes: tuple[CauseOfDeath, ...] = el("D.9.4.r", ())


@dataclass(frozen=True)
class Parent:
    """D.10: the parent, in a report where the child or foetus is the patient."""

    name: Text = el("D.10.1", None)
    birth_date: Date = el("D.10.2.1", None)
    age: Quantity | None = el("D.10.2.2", None)
    last_menstrual_period: Date = el("D.10.3", None)
    weight_kg: Decimal | None = el("D.10.4", None)
    height_cm: Decimal | None = el("D.10.5", None)
    sex: Sex | NullFlavor | None = el("D.10.6", None)
    medical_history: tuple[MedicalHistoryEpisode, ...] = el("D.10.7.1.r", ())
    medical_history_text: Text = el("D.10.7.2", None)
    past_drugs: tuple[PastDrug, ...] = el("D.10.8.r", ())


@dataclass(frozen=True)
class Patient:
    """D: patient characteristics."""

    name: Text = el("D.1", None)  # name or initials
    gp_record: Text = el("D.1.1.1", None)
    specialist_record: Text = el("D.1.1.2", None)
    hospital_record: Text = el("D.1.1.3", None)
    investigation_number: Text = el("D.1.1.4", None)
    birth_date: Date = el("D.2.1", None)
    age: Quantity | None = el("D.2.2", None)  # at onset of the reaction
    gestation_period: Quantity | None = el("D.2.2.1", None)  # when observed in the foetus
    age_group: AgeGroup | None = el("D.2.3", None)
    weight_kg: Decimal | None = el("D.3", None)
    height_cm: Decimal | None = el("D.4", None)
    sex: Sex | NullFlavor | None = el("D.5", None)
    last_menstrual_period: Date = el("D.6", None)
    medical_history: tuple[MedicalHistoryEpisode, ...] = el("D.7.1.r", ())
    medical_history_text: Text = el("D.7.2", None)
    concomitant_therapies: bool | None = el("D.7.3", None)
    past_drugs: tuple[PastDrug, ...] = el("D.8.r", ())
    death: Death | None = el("D.9", None)
    parent: Parent | None = el("D.10", None)
