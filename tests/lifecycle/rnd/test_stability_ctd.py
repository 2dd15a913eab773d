"""The stability study's printed record carries the CTD 3.2.P.8 tables: the shelf-life summary
per attribute at the long-term condition, and per condition and attribute a table of batches by
time point with each recorded value (OOS marked, nothing recorded: a dash), the specification in
the heading; the PDF shows QA's approval signature and records its handing out."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from tests.lifecycle.rnd.stability_steps import (
    approved_study,
    assay_results,
    record,
)

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.stability import ctd, service


def test_the_tables_hold_every_batch_at_every_time_point_of_the_protocol(
    db: Database, people: Any
) -> None:
    study_id = approved_study(db, people)
    results = assay_results(upto=4)  # 0, 3, 6 and 9 months at 25/60
    results.append(service.ResultIn("S2601", "40C75RH", 3.0, "ASSAY", 94.1, "%"))
    record(db, people, study_id, results)
    with unit_of_work(db, write=False) as s:
        study = service.get_study(s, study_id)
        summary, *tables = ctd.stability_tables(s, study)
    assert summary.heading.startswith("3.2.P.8.1")
    long_term = "25 °C ± 2 °C / 60 % RH ± 5 % RH"
    assay, impurity = summary.rows
    # nine months of three batches: an estimate held to twice the data (Q1E's limit); no
    # impurity result: the reason why not
    assert assay == [
        f"Assay at {long_term}",
        "18 months",
        "common slope",
        "S2602",
        "9 months of long-term data; extrapolation limit 18 months",
    ]
    assert impurity == [f"Impurity A at {long_term}", "—", "—", "—", "no results to evaluate"]
    headings = [t.heading for t in tables]
    assert len(tables) == 4  # two conditions × two attributes
    assert headings[0].startswith("3.2.P.8.3 Assay (ASSAY), ")
    assert headings[0].endswith("(long term); acceptance 95–105 %")
    assert headings[1].endswith("acceptance ≤ 0.5 %")
    long_term_assay = tables[0]
    assert long_term_assay.columns == ("Batch", "0 M", "3 M", "6 M", "9 M", "12 M", "18 M", "24 M")
    assert long_term_assay.rows[0] == ["S2601", "100.4", "99.9", "99.6", "99", "—", "—", "—"]
    assert [row[0] for row in long_term_assay.rows] == ["S2601", "S2602", "S2603"]
    accelerated_assay = tables[2]
    assert accelerated_assay.rows[0] == ["S2601", "—", "94.1 (OOS)", "—"]
    assert accelerated_assay.rows[1] == ["S2602", "—", "—", "—"]


def test_the_printed_study_shows_the_tables_and_qas_signature(
    db: Database, people: Any, api: Any
) -> None:
    study_id = approved_study(db, people)
    record(db, people, study_id, assay_results(upto=4))
    response = api("qa").get(f"/api/v1/records/stability_study/{study_id}/report.pdf")
    assert response.status_code == 200, response.text
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))
    assert "3.2.P.8.1 Stability summary and conclusion" in text
    assert "3.2.P.8.3 Assay (ASSAY)" in text
    assert "S2602 100.1 99.8 99.2 99" in text
    assert "Approved" in text and "Quentin Quality" in text
