"""The process development summary (3.2.P.2) and the batch analyses (3.2.P.5.4) as generated
from the data: the recipe's CQAs and CPPs with their ranges and the evidence found for each (the
signed notebook values, the stability studies), "no data recorded" where none exists; per batch
the results against the specification — stability batches from their time-0 results, production
batches through the quality front door. A product with no such data is refused, nothing stored."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from tests.lifecycle.production.setup import (
    ASSAY,
    add_batch,
    approved_specification,
    record_result,
    seed_master_data,
)
from tests.lifecycle.production.setup import (
    PRODUCT as PRODUCTION_PRODUCT,
)
from tests.lifecycle.rnd.stability_steps import write_protocol
from tests.lifecycle.rnd.submission_steps import counts, generate, pdf_of, text_of
from tests.lifecycle.rnd.transfer_steps import approved_recipe, project_with_materials
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput, PermissionDenied
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.eln import service as eln
from pharmaqms.lifecycle.rnd.stability import service as stability
from pharmaqms.lifecycle.rnd.submissions import service
from pharmaqms.quality.batch_results import batch_results

IBU = "IBU200"  # the product the transfer steps' project develops


def _granulation_experiment(db: Database, people: Any, project_id: int) -> None:
    """An experiment whose template records the impeller speed and the assay: two signed
    entries (90 and 160 rpm) and a draft one (which is no evidence)."""
    with unit_of_work(db) as s:
        template = eln.create_template(
            s,
            actor=people.rd,
            experiment_type="granulation",
            name="Granulation trial",
            sections=[
                {
                    "title": "Trial",
                    "fields": [
                        {"name": "impeller_speed", "label": "Impeller speed", "kind": "number"},
                        {"name": "assay", "label": "Assay", "kind": "number"},
                    ],
                }
            ],
        )
        s.flush()
        experiment = eln.start_experiment(
            s,
            actor=people.rd,
            project_id=project_id,
            template_id=template.id,
            title="Impeller speed range",
            protocol="Three trials",
            materials=[],
            equipment=["granulator"],
        )
        s.flush()
        experiment_id = experiment.id
    for speed, assay, signed in (("90", "99.1", True), ("160", "100.4", True), ("300", "1", False)):
        with unit_of_work(db) as s:
            entry = eln.write_entry(
                s,
                actor=people.rd,
                experiment_id=experiment_id,
                content=f"trial at {speed} rpm",
                fields={"impeller_speed": speed, "assay": assay},
            )
            s.flush()
            if signed:
                eln.sign_entry(s, actor=people.rd, entry_id=entry.id, password=PASSWORD)


def test_the_process_development_summary_shows_ranges_and_their_evidence(
    db: Database, people: Any
) -> None:
    project = project_with_materials(db, people)
    approved_recipe(db, people, project)
    _granulation_experiment(db, people, project.project_id)
    document_id = generate(db, people, "process_development", IBU, authority="EMA")
    text = text_of(pdf_of(db, document_id))
    assert "Module 3 — 3.2.P.2 Pharmaceutical development" in text
    assert "European Medicines Agency (EMA), European Union" in text
    assert "3.2.P.2.2 Drug product: critical quality attributes" in text
    assert "3.2.P.2.3 Manufacturing process development: critical process parameters" in text
    with unit_of_work(db, write=False) as s:
        content = service.get_document(s, document_id).content
    cqas, cpps = (section["tables"][0]["rows"] for section in content["sections"])
    by_name = {row[1]: row for row in cpps}
    speed = by_name["impeller_speed (CPP)"]
    assert speed[0] == "Granulation / Wet massing" and speed[2] == "100–150 rpm"
    # the recipe's approval, then the signed notebook values (the draft's 300 is not evidence)
    assert speed[3].startswith("recipe RCP-")
    assert "approved by Quentin Quality on" in speed[3]
    assert "Impeller speed range (ENT-" in speed[3]
    assert "2 value(s) studied, 90–160 rpm" in speed[3]
    force = by_name["compression_force (CPP)"]
    assert force[2] == "10–14 kN"
    assert force[3].endswith("notebook: no data recorded")
    assert by_name["tablet_hardness (IPC)"][2] == "80–120 N"
    assay = {row[0]: row for row in cqas}["Assay (ASSAY)"]
    assert assay[1:3] == ["95–105 %", "HPLC"]
    assert "2 value(s) studied, 99.1–100.4 %" in assay[3]
    assert "stability: stability study STB-" in assay[3]  # the project's study tests ASSAY
    dissolution = {row[0]: row for row in cqas}["Dissolution (30 min) (DISSOLUTION)"]
    assert dissolution[1] == "≥ 80 %"
    assert "notebook: no data recorded; stability: no data recorded" in dissolution[3]
    assert "2 value(s) studied, 90–160 rpm" in text
    assert "Process risk assessment of the recipe: no data recorded." in text


def test_a_product_without_an_approved_recipe_has_no_development_summary(
    db: Database, people: Any
) -> None:
    project_with_materials(db, people)  # the product exists; no recipe
    before = counts(db)
    with pytest.raises(InvalidInput, match="no process development data recorded for IBU200"):
        generate(db, people, "process_development", IBU)
    # regulatory affairs may generate, but not read the notebook the evidence comes from
    with pytest.raises(PermissionDenied):
        generate(db, people, "process_development", IBU, who="ra")
    assert counts(db) == before


def _stability_batches(db: Database, people: Any) -> None:
    study_id = write_protocol(db, people, product_code=PRODUCTION_PRODUCT)
    with unit_of_work(db) as s:
        stability.approve_study(s, actor=people.qa, study_id=study_id, password=PASSWORD)
    results = [
        stability.ResultIn("S2601", "25C60RH", 0.0, "ASSAY", 100.4, "%"),
        stability.ResultIn("S2601", "25C60RH", 0.0, "IMP-A", 0.61, "%"),
        stability.ResultIn("S2602", "25C60RH", 0.0, "ASSAY", 100.1, "%"),
        stability.ResultIn("S2602", "25C60RH", 3.0, "ASSAY", 99.8, "%"),
    ]
    with unit_of_work(db) as s:
        stability.record_results(s, actor=people.qc, study_id=study_id, results=results)


def test_the_batch_analyses_show_each_batch_against_its_specification(
    db: Database, people: Any, api: Any
) -> None:
    seed_master_data(db, people)
    approved_specification(api("qc"), api("qa"), item_code=PRODUCTION_PRODUCT, tests=[ASSAY])
    released = add_batch(db, people, "B-2601", status="released", manufactured_on=date(2026, 2, 1))
    add_batch(db, people, "B-2602", manufactured_on=date(2026, 3, 1))
    assert record_result(api("qc"), released, ASSAY).status_code == 201
    _stability_batches(db, people)
    # the front door answers production's batches without R&D importing production
    with unit_of_work(db, write=False) as s:
        found = batch_results(s, PRODUCTION_PRODUCT)
    assert [(b.lot_number, len(b.results)) for b in found] == [("B-2601", 1), ("B-2602", 0)]
    document_id = generate(db, people, "batch_analyses", PRODUCTION_PRODUCT, authority="NMPA")
    with unit_of_work(db, write=False) as s:
        content = service.get_document(s, document_id).content
    stability_section, production_section, elsewhere = content["sections"]
    tables = {t["heading"]: t["rows"] for t in stability_section["tables"]}
    first = next(rows for heading, rows in tables.items() if heading.startswith("Batch S2601"))
    assert first == [
        ["Assay (ASSAY)", "95–105 %", "100.4 %", "pass"],
        ["Impurity A (IMP-A)", "≤ 0.5 %", "0.61 % (OOS)", "fail"],
    ]
    third = next(rows for heading, rows in tables.items() if heading.startswith("Batch S2603"))
    assert [row[2] for row in third] == ["no data recorded", "no data recorded"]
    headings = [t["heading"] for t in production_section["tables"]]
    assert headings[0].startswith("Batch B-2601 — development, clinical or validation batch, ")
    assert headings[0].endswith("manufactured 2026-02-01")
    assert headings[1] == "Batch B-2602 — production batch, quarantine; manufactured 2026-03-01"
    assert production_section["tables"][0]["rows"] == [
        ["Assay (HPLC) (ASSAY)", "95 – 105 %", "100 %", "pass"]
    ]
    assert production_section["tables"][1]["rows"] == [["no data recorded", "—", "—", "—"]]
    assert elsewhere["empty"] == "clinical batches made elsewhere: no data recorded in this system"
    text = text_of(pdf_of(db, document_id))
    assert "Module 3 — 3.2.P.5.4 Batch analyses" in text
    assert "Impurity A (IMP-A) ≤ 0.5 % 0.61 % (OOS) fail" in text
    assert "Assay (HPLC) (ASSAY) 95 – 105 % 100 % pass" in text


def test_a_product_without_batch_data_is_refused_and_nothing_is_stored(
    db: Database, people: Any
) -> None:
    seed_master_data(db, people)
    write_protocol(db, people, product_code=PRODUCTION_PRODUCT)  # a draft: no data
    before = counts(db)
    with pytest.raises(InvalidInput, match="no batch data recorded for P-PARA500"):
        generate(db, people, "batch_analyses", PRODUCTION_PRODUCT)
    assert counts(db) == before
