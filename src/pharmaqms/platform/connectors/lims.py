"""LIMS connector: QC test results as CSV or JSON, with a column mapping per source system.

A source's mapping, e.g. for a LabWare export::

    {"format": "csv", "delimiter": ";", "timezone": "Europe/Amsterdam",
     "columns": {"SAMPLE_NUMBER": "sample_id", "ANALYSIS": "test_code", "ENTRY": "value", ...}}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from pharmaqms.platform.connectors.tabular import (
    apply_mapping,
    csv_records,
    json_records,
    sniff_format,
)
from pharmaqms.platform.governance.rules import Checked, EntitySpec, FieldSpec, Problem
from pharmaqms.platform.governance.units import result_unit_problem
from pharmaqms.platform.ingest.connector import SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.service import register_connector
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.timeseries.models import TestResult


def _spec_consistent(values: dict[str, Any]) -> list[Problem]:
    low, high = values.get("spec_min"), values.get("spec_max")
    if low is not None and high is not None and low > high:
        return [
            Problem("spec_min", "bad_specification", f"spec_min {low} is above spec_max {high}")
        ]
    if values.get("value") is None and not values.get("text_value"):
        return [Problem("value", "missing", "a result needs a value or a text value")]
    return []


def _unit_reported(values: dict[str, Any]) -> list[Problem]:
    """The unit goes through pint (with the lab's counts and conventional units): a result in
    a unit nobody knows, or in furlongs, is not judged against its limits but quarantined."""
    problem = result_unit_problem(values.get("unit") or "")
    if problem is None:
        return []
    code, message = problem
    return [Problem("unit", code, f"unit: {message}")]


TEST_RESULT = EntitySpec(
    entity="test_result",
    fields=(
        FieldSpec("item_code", max_length=40),
        FieldSpec("lot_number", max_length=40),
        FieldSpec("sample_id", max_length=60),
        FieldSpec("test_code", max_length=60),
        FieldSpec("test_name", required=False, max_length=200),
        FieldSpec("replicate", "int", required=False, minimum=1, maximum=99),
        FieldSpec("value", "float", required=False),
        FieldSpec("text_value", required=False, max_length=200),
        FieldSpec("unit", required=False, max_length=20),
        FieldSpec("spec_min", "float", required=False),
        FieldSpec("spec_max", "float", required=False),
        FieldSpec("spec_text", required=False, max_length=200),
        FieldSpec("analyst", required=False, max_length=100),
        FieldSpec("tested_at", "datetime"),
    ),
    natural_key=("sample_id", "test_code", "replicate"),
    checks=(_spec_consistent, _unit_reported),
)


def judge(values: dict[str, Any]) -> str:
    """pass / fail against the specification stated with the result; not_evaluated without one.
    (The production module evaluates against its own approved specifications as well.)"""
    value, low, high = values.get("value"), values.get("spec_min"), values.get("spec_max")
    if value is not None and (low is not None or high is not None):
        inside = (low is None or value >= low) and (high is None or value <= high)
        return "pass" if inside else "fail"
    text, spec_text = values.get("text_value"), values.get("spec_text")
    if text and spec_text:
        allowed = {s.strip().lower() for s in spec_text.split("|")}
        return "pass" if text.strip().lower() in allowed else "fail"
    return "not_evaluated"


SPECS: dict[str, EntitySpec] = {"test_result": TEST_RESULT}


class LimsConnector:
    kind = "lims"
    specs = SPECS

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]:
        columns = mapping.get("columns", {})
        fmt = sniff_format(content, mapping.get("format"))
        records = (
            json_records(content, mapping.get("json_key"))
            if fmt == "json"
            else csv_records(content, mapping.get("delimiter"))
        )
        for position, values in records:
            yield SourceRow("test_result", position, apply_mapping(values, columns))

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored:
        v = checked.values
        lot = ctx.session.scalars(
            select(Lot).where(Lot.item_code == v["item_code"], Lot.lot_number == v["lot_number"])
        ).first()
        if lot is None:
            return Stored(
                problems=[
                    Problem(
                        "lot_number",
                        "unknown_lot",
                        f"no lot {v['lot_number']} of {v['item_code']} is known",
                    )
                ]
            )
        replicate = v.get("replicate") or 1
        existing = ctx.session.scalars(
            select(TestResult.id).where(
                TestResult.source_id == ctx.source_id,
                TestResult.sample_id == v["sample_id"],
                TestResult.test_code == v["test_code"],
                TestResult.replicate == replicate,
            )
        ).first()
        if existing is not None:
            return Stored(entity_id=existing, duplicate=True)
        result = TestResult(
            source_id=ctx.source_id,
            lot_id=lot.id,
            sample_id=v["sample_id"],
            test_code=v["test_code"],
            test_name=v.get("test_name") or "",
            replicate=replicate,
            value=v.get("value"),
            text_value=v.get("text_value"),
            unit=v.get("unit") or "",
            spec_min=v.get("spec_min"),
            spec_max=v.get("spec_max"),
            spec_text=v.get("spec_text"),
            outcome=judge(v),
            analyst=v.get("analyst") or "",
            tested_at=v["tested_at"],
            original_offset=v.get("tested_at_offset"),
            run_id=ctx.run_id,
        )
        ctx.session.add(result)
        ctx.session.flush()
        return Stored(entity_id=result.id, measured_at=v["tested_at"])


LIMS = register_connector(LimsConnector())
