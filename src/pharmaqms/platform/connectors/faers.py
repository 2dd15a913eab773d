"""Adverse-event feed connector: openFDA / FAERS ``drug/event`` JSON (``{"meta": …, "results":
[…]}``), one safety report per result (domain reference §3).

A report is kept as received (``document``) with the fields the platform links on: safety
report id and version, receive date, seriousness and its criteria, country, the reactions
(MedDRA preferred term, outcome) and the drugs (characterisation, medicinal product, batch
number, authorisation number). Each batch number becomes a link to our lot where one matches
(see ``traceability.adverse_event_lots``), kept without a lot where none does yet.

The nested parts of a report (``patient``, ``primarysource``, ``sender``…) travel through
governance as JSON text, so a quarantined report can be corrected field by field and
replayed. Every top-level field openFDA documents is known; anything else is reported as an
unknown field rather than silently dropped."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any, Final

from sqlalchemy import select

from pharmaqms.kernel import clock
from pharmaqms.platform.connectors.tabular import json_records
from pharmaqms.platform.governance.rules import Checked, EntitySpec, FieldSpec, Problem
from pharmaqms.platform.ingest.connector import SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.service import register_connector
from pharmaqms.platform.traceability.adverse_event_lots import match_lot
from pharmaqms.platform.traceability.models import AdverseEventLot, AdverseEventReport

# openFDA seriousness flags → the ICH E2B(R3) criterion (E.i.3.2a–f) they stand for.
CRITERIA: Final = (
    ("seriousnessdeath", "death"),
    ("seriousnesslifethreatening", "life_threatening"),
    ("seriousnesshospitalization", "hospitalisation"),
    ("seriousnessdisabling", "disabling"),
    ("seriousnesscongenitalanomali", "congenital_anomaly"),
    ("seriousnessother", "other_medically_important"),
)
NESTED: Final = ("patient", "primarysource", "reportduplicate", "sender", "receiver")
YES_NO: Final = ("1", "2")
COUNTRY: Final = r"[A-Z]{2}"
REACTION_OUTCOMES: Final = frozenset({"1", "2", "3", "4", "5", "6"})
DRUG_ROLES: Final = frozenset({"1", "2", "3"})


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# The patient's measures openFDA sends as text (E2B D.2.2a age at onset, D.3 weight in kg): a
# negative or non-numeric one is a finding for a person, never a value to store.
PATIENT_MEASURES: Final = (("patientonsetage", 0.0, 200_000.0), ("patientweight", 0.0, 1_000.0))


def _patient_measures(patient: dict[str, Any]) -> list[Problem]:
    problems = []
    for name, low, high in PATIENT_MEASURES:
        value = patient.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        where = f"patient.{name}"
        try:
            number = float(str(value).strip()) if not isinstance(value, bool) else math.nan
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            problems.append(
                Problem("patient", "not_a_number", f"{where}: {value!r} is not a number")
            )
        elif not low <= number <= high:
            problems.append(
                Problem(
                    "patient",
                    "below_range" if number < low else "above_range",
                    f"{where}: {value!r} is outside {low:g} to {high:g}",
                )
            )
    return problems


def _patient_problems(patient: Any) -> list[Problem]:
    if not isinstance(patient, dict):
        return [Problem("patient", "bad_structure", "patient is not an object")]
    problems: list[Problem] = [*_patient_measures(patient)]
    reactions, drugs = patient.get("reaction"), patient.get("drug")
    if not isinstance(reactions, list) or not reactions:
        problems.append(Problem("patient", "missing", "patient.reaction: no reaction reported"))
        reactions = []
    if not isinstance(drugs, list) or not drugs:
        problems.append(Problem("patient", "missing", "patient.drug: no drug reported"))
        drugs = []
    for i, reaction in enumerate(reactions):
        where = f"patient.reaction[{i}]"
        term = str(reaction.get("reactionmeddrapt") or "") if isinstance(reaction, dict) else ""
        if not term.strip():
            problems.append(Problem("patient", "missing", f"{where}: no MedDRA preferred term"))
        elif len(term) > 250:
            problems.append(Problem("patient", "too_long", f"{where}: the term is over 250 chars"))
        elif str(reaction.get("reactionoutcome") or "6") not in REACTION_OUTCOMES:
            problems.append(
                Problem(
                    "patient",
                    "not_allowed",
                    f"{where}.reactionoutcome: {reaction['reactionoutcome']!r} is not 1–6",
                )
            )
    for i, drug in enumerate(drugs):
        where = f"patient.drug[{i}]"
        if not isinstance(drug, dict) or not str(drug.get("medicinalproduct") or "").strip():
            problems.append(Problem("patient", "missing", f"{where}: no medicinal product"))
            continue
        role = str(drug.get("drugcharacterization") or "")
        if role and role not in DRUG_ROLES:
            problems.append(
                Problem(
                    "patient",
                    "not_allowed",
                    f"{where}.drugcharacterization: {role!r} is not 1 (suspect), 2 "
                    "(concomitant) or 3 (interacting)",
                )
            )
        if len(str(drug.get("drugbatchnumb") or "")) > 40:
            problems.append(
                Problem("patient", "too_long", f"{where}.drugbatchnumb: over 40 characters")
            )
    return problems


def _report_consistent(values: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    received = values.get("receivedate")
    if received is not None and received > clock.now().date():
        problems.append(
            Problem("receivedate", "in_the_future", f"receivedate {received} is in the future")
        )
    flagged = [name for flag, name in CRITERIA if values.get(flag) == "1"]
    if values.get("serious") == "2" and flagged:
        problems.append(
            Problem(
                "serious",
                "inconsistent_seriousness",
                f"serious is 2 (not serious) but the report meets {', '.join(flagged)}",
            )
        )
    try:
        patient = _json(values["patient"])
        for name in NESTED[1:]:
            if values.get(name):
                _json(values[name])
    except json.JSONDecodeError as err:
        return [*problems, Problem("patient", "bad_json", f"not valid JSON: {err.msg}")]
    return problems + _patient_problems(patient)


ADVERSE_EVENT_REPORT = EntitySpec(
    entity="adverse_event_report",
    fields=(
        FieldSpec("safetyreportid", max_length=60),
        FieldSpec("safetyreportversion", "int", required=False, minimum=1, maximum=999),
        FieldSpec("receivedate", "date"),
        FieldSpec("receivedateformat", required=False, choices=("102",)),
        FieldSpec("receiptdate", "date", required=False),
        FieldSpec("receiptdateformat", required=False, choices=("102",)),
        FieldSpec("transmissiondate", "date", required=False),
        FieldSpec("transmissiondateformat", required=False, choices=("102",)),
        FieldSpec("serious", choices=YES_NO),
        *(FieldSpec(flag, required=False, choices=YES_NO) for flag, _ in CRITERIA),
        FieldSpec("occurcountry", required=False, pattern=COUNTRY),
        FieldSpec("primarysourcecountry", required=False, pattern=COUNTRY),
        FieldSpec("reporttype", required=False, choices=("1", "2", "3", "4")),
        FieldSpec("fulfillexpeditecriteria", required=False, choices=YES_NO),
        FieldSpec("companynumb", required=False, max_length=100),
        FieldSpec("authoritynumb", required=False, max_length=100),
        FieldSpec("duplicate", required=False, choices=("1",)),
        FieldSpec("patient", max_length=200_000),
        *(FieldSpec(name, required=False, max_length=20_000) for name in NESTED[1:]),
    ),
    natural_key=("safetyreportid", "safetyreportversion"),
    checks=(_report_consistent,),
)


def _reactions(patient: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "meddra_pt": str(r["reactionmeddrapt"]).strip(),
            "meddra_version": r.get("reactionmeddraversionpt"),
            "outcome": r.get("reactionoutcome"),
        }
        for r in patient["reaction"]
    ]


def _drugs(patient: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for d in patient["drug"]:
        substance = d.get("activesubstance")
        found.append(
            {
                "characterisation": d.get("drugcharacterization"),
                "medicinal_product": str(d["medicinalproduct"]).strip(),
                "batch_number": (str(d["drugbatchnumb"]).strip() or None)
                if d.get("drugbatchnumb")
                else None,
                "authorisation_number": d.get("drugauthorizationnumb"),
                "active_substance": substance.get("activesubstancename")
                if isinstance(substance, dict)
                else None,
            }
        )
    return found


def _as_received(key: str, value: Any) -> Any:
    """A field back in openFDA's form: dates as YYYYMMDD (format 102), numbers as text."""
    if key in NESTED:
        return _json(value)
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return str(value) if isinstance(value, int) else value


SPECS: Final = {"adverse_event_report": ADVERSE_EVENT_REPORT}


class FaersConnector:
    kind = "faers"
    specs = SPECS

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]:
        for position, record in json_records(content, mapping.get("json_key", "results")):
            values = {
                key: json.dumps(value, ensure_ascii=False)
                if isinstance(value, dict | list)
                else value
                for key, value in record.items()
            }
            yield SourceRow("adverse_event_report", position, values)

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored:
        v = checked.values
        version = v.get("safetyreportversion") or 1
        existing = ctx.session.scalars(
            select(AdverseEventReport.id).where(
                AdverseEventReport.source_id == ctx.source_id,
                AdverseEventReport.safety_report_id == v["safetyreportid"],
                AdverseEventReport.report_version == version,
            )
        ).first()
        if existing is not None:
            return Stored(entity_id=existing, duplicate=True)
        patient = _json(v["patient"])
        document = {key: _as_received(key, value) for key, value in v.items() if value is not None}
        drugs = _drugs(patient)
        report = AdverseEventReport(
            source_id=ctx.source_id,
            safety_report_id=v["safetyreportid"],
            report_version=version,
            received_on=v["receivedate"],
            serious=v["serious"] == "1",
            seriousness=[name for flag, name in CRITERIA if v.get(flag) == "1"],
            country=v.get("occurcountry") or v.get("primarysourcecountry"),
            reactions=_reactions(patient),
            drugs=drugs,
            narrative=None,
            document=document,
            run_id=ctx.run_id,
        )
        ctx.session.add(report)
        ctx.session.flush()
        linked: set[tuple[str, str]] = set()
        for drug in drugs:
            number, product = drug["batch_number"], drug["medicinal_product"][:200]
            if not number or (number, product) in linked:
                continue
            linked.add((number, product))
            lot = match_lot(ctx.session, number, product, drug["authorisation_number"])
            ctx.session.add(
                AdverseEventLot(
                    report_id=report.id,
                    lot_number=number,
                    medicinal_product=product,
                    lot_id=lot.id if lot else None,
                )
            )
        ctx.session.flush()
        received = datetime.combine(v["receivedate"], time(0), tzinfo=UTC)
        return Stored(entity_id=report.id, measured_at=received)


FAERS = register_connector(FaersConnector())
