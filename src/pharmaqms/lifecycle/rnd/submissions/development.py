"""3.2.P.2 Pharmaceutical development, from the product's approved development recipe: the
critical quality attributes with their limits (3.2.P.2.2) and the critical process parameters
and in-process controls with their proven ranges (3.2.P.2.3), each with the evidence the system
holds for it:

- the recipe itself, approved by QA's signature (who, when);
- the notebook: signed entries of the project's experiments whose template has a number field
  named as the parameter or attribute (``impeller_speed``, ``assay``) — the values studied,
  their span and how many (the entries are decrypted for this: generating takes ``rnd.read``);
- the stability studies of the product that test the attribute (its code);
- process FMEAs on the recipe (risk assessments whose subject is the recipe).

Where nothing supports a range, the table says "no data recorded" rather than inventing one."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.lifecycle.rnd.eln import reading
from pharmaqms.lifecycle.rnd.eln import service as eln
from pharmaqms.lifecycle.rnd.eln.models import EntryStatus, ExperimentTemplate
from pharmaqms.lifecycle.rnd.stability import service as stability
from pharmaqms.lifecycle.rnd.stability.models import StudyStatus
from pharmaqms.lifecycle.rnd.stability.protocol import condition_label
from pharmaqms.lifecycle.rnd.submissions.common import (
    NO_DATA,
    limits_text,
    section,
    table,
    utc_time,
)
from pharmaqms.lifecycle.rnd.transfer.models import DevelopmentRecipe, RecipeStatus
from pharmaqms.quality.risk.models import RiskAssessment

BASIS = (
    "ICH Q8(R2) (critical quality attributes, critical process parameters, proven acceptable "
    "ranges); ICH M4Q 3.2.P.2.2 and 3.2.P.2.3."
)


def _key(name: str) -> str:
    return name.strip().lower()


@dataclass
class Studied:
    """The values of one notebook field across the signed entries of one experiment."""

    experiment: str
    title: str
    entries: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def text(self, unit: str) -> str:
        suffix = f" {unit}" if unit else ""
        low, high = min(self.values), max(self.values)
        span = f"{low:g}{suffix}" if low == high else f"{low:g}–{high:g}{suffix}"
        return (
            f"{self.experiment} {self.title} ({', '.join(self.entries)}): "
            f"{len(self.values)} value(s) studied, {span}"
        )


def notebook_values(session: Session, project_id: int) -> dict[str, list[Studied]]:
    """Field name (lower case) → the values its signed entries recorded, per experiment."""
    found: dict[str, list[Studied]] = defaultdict(list)
    for experiment in eln.experiments_of(session, project_id):
        template = (
            session.get(ExperimentTemplate, experiment.template_id)
            if experiment.template_id
            else None
        )
        numeric = {f["name"] for f in eln.template_fields(template) if f["kind"] == "number"}
        if not numeric:
            continue
        per_field: dict[str, Studied] = {}
        for entry in eln.entries_of(session, experiment.id):
            if entry.status == EntryStatus.DRAFT.value or not entry.entry_hash:
                continue  # only what its author signed is evidence
            plain = reading.plaintext_of(session, entry)
            for name, raw in plain.fields.items():
                if name not in numeric:
                    continue
                try:
                    value = float(raw)
                except ValueError:
                    continue
                studied = per_field.setdefault(name, Studied(experiment.number, experiment.title))
                studied.values.append(value)
                if entry.number not in studied.entries:
                    studied.entries.append(entry.number)
        for name, studied in per_field.items():
            found[_key(name)].append(studied)
    return found


def _approval(session: Session, recipe: DevelopmentRecipe) -> str:
    label = f"{recipe.family} r{recipe.revision}"
    approvals = [s for s in signatures_of(session, recipe) if s.meaning == "Approved"]
    if not approvals:
        return f"recipe {label}"
    last = approvals[-1]
    return f"recipe {label}, approved by {last.signer_name} on {utc_time(last.signed_at)}"


def _stability_evidence(session: Session, product_code: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for study in stability.studies_of_product(session, product_code):
        if study.status == StudyStatus.DRAFT.value:
            continue
        conditions = ", ".join(condition_label(c["code"]) for c in study.conditions)
        for attribute in study.attributes:
            found[_key(attribute["code"])].append(
                f"stability study {study.number} ({study.status}; {conditions})"
            )
    return found


def _evidence(approved: str, **sources: list[str]) -> str:
    """The recipe's approval, then each source by name, saying so where it holds nothing."""
    shown = [approved]
    for name, found in sources.items():
        shown.append(f"{name}: {'; '.join(found) if found else NO_DATA}")
    return "; ".join(shown)


def current_recipe(session: Session, product_code: str) -> DevelopmentRecipe:
    recipe = session.scalars(
        select(DevelopmentRecipe)
        .where(
            DevelopmentRecipe.product_code == product_code,
            DevelopmentRecipe.status == RecipeStatus.APPROVED.value,
        )
        .order_by(DevelopmentRecipe.approved_at.desc(), DevelopmentRecipe.id.desc())
    ).first()
    if recipe is None:
        raise InvalidInput(
            f"no process development data recorded for {product_code}: the product has no "
            "approved development recipe (its critical parameters and attributes)",
            field="product",
        )
    return recipe


def collect(session: Session, product_code: str) -> list[dict[str, Any]]:
    recipe = current_recipe(session, product_code)
    approved = _approval(session, recipe)
    studied = notebook_values(session, recipe.project_id)
    tested = _stability_evidence(session, product_code)

    def notebook(name: str, unit: str) -> list[str]:
        return [s.text(unit) for s in studied.get(_key(name), [])]

    cqa_rows = [
        [
            f"{a['name']} ({a['code']})",
            limits_text(a.get("lower"), a.get("upper"), a.get("unit", "")),
            a.get("method") or "—",
            _evidence(
                approved,
                notebook=notebook(a["code"], a.get("unit", "")),
                stability=tested[_key(a["code"])],
            ),
        ]
        for a in recipe.attributes
    ]
    cpp_rows = []
    for step in recipe.steps:
        where = f"{step['unit_procedure']} / {step['operation']}"
        for kind, items in (
            ("CPP", step.get("parameters") or []),
            ("IPC", step.get("in_process_controls") or []),
        ):
            for p in items:
                unit = p.get("unit", "")
                cpp_rows.append(
                    [
                        where,
                        f"{p['name']} ({kind})",
                        limits_text(p.get("low"), p.get("high"), unit),
                        _evidence(approved, notebook=notebook(p["name"], unit)),
                    ]
                )
    fmeas = session.scalars(
        select(RiskAssessment)
        .where(RiskAssessment.subject_type == "rnd_recipe", RiskAssessment.subject_id == recipe.id)
        .order_by(RiskAssessment.id)
    ).all()
    risk_text = (
        "Process risk assessments of the recipe: "
        + "; ".join(f"{r.number} {r.title} ({r.status})" for r in fmeas)
        if fmeas
        else f"Process risk assessment of the recipe: {NO_DATA}."
    )
    header = (
        f"From {approved}: {recipe.title}; batch size {recipe.batch_size:g} "
        f"{recipe.batch_unit}; {len(recipe.formula)} material(s) in the formula."
    )
    return [
        section(
            "3.2.P.2.2 Drug product: critical quality attributes",
            BASIS,
            text=[header],
            tables=[
                table(
                    "Critical quality attributes, their limits and the evidence",
                    ["Attribute", "Limits", "Method", "Evidence"],
                    cqa_rows,
                )
            ]
            if cqa_rows
            else [],
            empty=None if cqa_rows else f"critical quality attributes: {NO_DATA}",
        ),
        section(
            "3.2.P.2.3 Manufacturing process development: critical process parameters",
            BASIS,
            text=[risk_text],
            tables=[
                table(
                    "Critical process parameters (CPP) and in-process controls (IPC), their "
                    "proven ranges and the evidence",
                    ["Step", "Parameter", "Proven range", "Evidence"],
                    cpp_rows,
                    note="Notebook values are those of signed entries of the project's "
                    "experiments whose template field carries the parameter's name.",
                )
            ]
            if cpp_rows
            else [],
            empty=None if cpp_rows else f"critical process parameters: {NO_DATA}",
        ),
    ]
