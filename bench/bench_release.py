"""Release benchmark: rule-based release evaluation of a batch with 2,000 recorded steps.

Builds, through the services, a batch whose executed record has 2,000 steps — each with a
parameter entry and a "Performed" signature, every tenth with a second-person verification, a
material dispensed, equipment used, a few out-of-limit values reviewed by QA, QC results and an
approved certificate — then times ``release.service.evaluate_release`` (load the evidence in a
fixed number of queries, judge the eleven rules) in a fresh read-only unit of work each time:
p50 and p95 over ``--evaluations`` runs. Target: p95 < 100 ms.

Ceiling, in the same run: the very SQL statements one evaluation issues (captured from the
engine), replayed with their parameters on a bare ``sqlite3`` connection to the same file, every
row fetched and nothing else done — what loading the same evidence costs with no ORM, no rule
and no Python around it. The ratio evaluation / ceiling is where the time goes.

    .venv/bin/python bench/bench_release.py [--steps 2000] [--evaluations 50] [--path DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The argon2 parameters the tests use: 2,000 signatures each check a password.
os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")

import sqlalchemy
from sqlalchemy import event

import pharmaqms.schema  # noqa: F401 - every table, as the application has them
from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.bootstrap import initialise
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.batchrecords import (
    entries,
    equipment,
    exceptions,
    masters,
    service,
)
from pharmaqms.lifecycle.production.materials import service as materials
from pharmaqms.lifecycle.production.materials.workflow import SUPPLIER_APPROVAL_WORKFLOW
from pharmaqms.lifecycle.production.qc import certificates, results, specifications
from pharmaqms.lifecycle.production.qc.workflow import (
    CERTIFICATE_WORKFLOW,
    SPECIFICATION_WORKFLOW,
)
from pharmaqms.lifecycle.production.release import evidence
from pharmaqms.lifecycle.production.release.service import evaluate_release
from pharmaqms.platform.gs1 import check_digit
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.service import set_lot_status
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.training import service as training
from pharmaqms.quality.training.curricula import name_in_curriculum

TARGET_MS = 100.0
PASSWORD = "Bench-Passw0rd!"
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
PEOPLE = {
    "qa": ("Quentin Quality", ["qa"]),
    "qa2": ("Rosa Reviewer", ["qa"]),
    "qc": ("Chloe Chemist", ["qc_analyst"]),
    "operator": ("Otto Operator", ["production_operator"]),
    "supervisor": ("Sam Supervisor", ["production_supervisor"]),
    "qp": ("Petra Qualified", ["qualified_person"]),
}
CHUNK = 100  # steps per transaction while the batch is made


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"machine: {model}, {os.cpu_count()} cores, load average {load}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}, {platform.system()} {platform.release()}"
    )


def gtin(body13: str) -> str:
    return f"{body13}{check_digit(body13)}"


def master_steps(count: int, sop: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for index in range(1, count + 1):
        step: dict[str, Any] = {
            "unit_procedure": f"UP{(index - 1) // 100 + 1}",
            "operation": f"OP{(index - 1) // 10 + 1}",
            "phase": f"PH{index}",
            "title": f"Phase {index}",
            "instructions": "Set the value, check it on the display, record it.",
            "sop_numbers": [sop],
            "parameters": [{"name": "setpoint", "unit": "rpm", "low": 90, "high": 110}],
            "verification_required": index % 10 == 0,
            "target_minutes": 600,
        }
        if index == 1:
            step["materials"] = [
                {"material_code": "API", "quantity": 50, "unit": "kg", "tolerance_percent": 1}
            ]
            step["equipment"] = ["balance"]
        steps.append(step)
    return steps


def build(database: Database, steps: int) -> int:
    """A released material lot, a trained operator, qualified equipment, an effective master of
    ``steps`` steps, and a completed, QC-tested batch made to it. Returns the batch's lot id."""
    initialise(database, admin_password=PASSWORD)
    with unit_of_work(database) as s:
        admin = auth.actor_for(s, auth.user_by_username(s, "admin"))  # type: ignore[arg-type]
        for username, (name, roles) in PEOPLE.items():
            auth.add_user(
                s,
                actor=admin,
                username=username,
                full_name=name,
                roles=roles,
                password=PASSWORD,
                must_change_password=False,
            )
    people: dict[str, Actor] = {}
    with unit_of_work(database, write=False) as s:
        for username in (*PEOPLE, "admin"):
            people[username] = auth.actor_for(s, auth.user_by_username(s, username))  # type: ignore[arg-type]
    admin, qa, qc = people["admin"], people["qa"], people["qc"]
    supervisor, operator = people["supervisor"], people["operator"]
    with clock.frozen_at(START) as moment, unit_of_work(database) as s:
        masterdata.add_product(
            s, actor=admin, gtin=gtin("0871234599010"), code="TAB", name="Tablet"
        )
        masterdata.add_material(s, actor=admin, code="API", name="Active", kind="api")
        masterdata.add_supplier(s, actor=admin, code="SUP", name="Supplier", country="DE")
        approval = materials.propose_supplier(s, actor=qa, material_code="API", supplier_code="SUP")
        s.flush()
        materials.record_supplier_audit(
            s,
            actor=qa,
            approval_id=approval.id,
            audited_on=START.date() - timedelta(days=30),
            outcome="passed",
            qualified_until=START.date() + timedelta(days=700),
        )
        perform(s, SUPPLIER_APPROVAL_WORKFLOW, approval, "qualify", actor=qa, password=PASSWORD)
        lot = materials.receive_material_lot(
            s,
            actor=supervisor,
            material_code="API",
            supplier_code="SUP",
            lot_number="API-1",
            expires_on=START.date() + timedelta(days=900),
        )
        set_lot_status(s, lot, "released", actor=qa, reason="released for the benchmark")
        spec = specifications.create_specification(
            s,
            actor=qc,
            subject_kind="product",
            item_code="TAB",
            market="EU",
            title="Release specification",
            tests=[specifications.TestInput("ASSAY", "Assay", "numeric", "%", 95.0, 105.0, 1)],
        )
        perform(s, SPECIFICATION_WORKFLOW, spec, "submit", actor=qc)
        perform(s, SPECIFICATION_WORKFLOW, spec, "approve", actor=qa, password=PASSWORD)
        version = documents.create_document(
            s,
            actor=supervisor,
            doc_type="sop",
            title="Granulation",
            body="1. Purpose\n\nHow the granulator is run, step by step, on the shop floor.",
        )
        s.flush()
        documents.transition(s, actor=supervisor, version_id=version.id, name="submit")
        documents.transition(s, actor=qa, version_id=version.id, name="approve", password=PASSWORD)
        name_in_curriculum(
            s,
            actor=qa,
            job_role="Granulation operator",
            curriculum="Granulation",
            document_id=version.document_id,
        )
        documents.transition(s, actor=qa, version_id=version.id, name="make_effective")
        sop_id, sop = version.document_id, version.number.split(" ")[0]
        for person in (operator, supervisor):
            requirement = training.assign_training(
                s, actor=qa, user_id=person.user_id, document_id=sop_id, reason="benchmark"
            )
            s.flush()
            training.complete_training(
                s, actor=person, requirement_id=requirement.id, password=PASSWORD
            )
        balance = equipment.register_equipment(
            s, actor=supervisor, code="BAL-1", name="Balance", equipment_type="balance"
        )
        s.flush()
        equipment.record_qualification(
            s,
            actor=supervisor,
            equipment_id=balance.id,
            stage="PQ",
            qualified_at=START - timedelta(days=10),
            valid_until=START.date() + timedelta(days=300),
            passed=True,
            report="PQ-BAL-1",
        )
        equipment.record_calibration(
            s,
            actor=supervisor,
            equipment_id=balance.id,
            calibrated_at=START - timedelta(days=5),
            due_on=START.date() + timedelta(days=60),
            as_found_in_tolerance=True,
            as_left_in_tolerance=True,
            certificate="CAL-1",
        )
        master = masters.define_master_batch_record(
            s,
            actor=supervisor,
            product_code="TAB",
            title="Tablet",
            batch_size=100000,
            batch_unit="tablets",
            steps=master_steps(steps, sop),
        )
        s.flush()
        documents.transition(
            s, actor=supervisor, version_id=master.document_version_id, name="submit"
        )
        documents.transition(
            s, actor=qa, version_id=master.document_version_id, name="approve", password=PASSWORD
        )
        documents.transition(
            s, actor=qa, version_id=master.document_version_id, name="make_effective"
        )
        record = service.open_batch_record(
            s, actor=supervisor, master_id=master.id, lot_number="B-2000"
        )
        s.flush()
        record_id, lot_id, spec_id = record.id, record.lot_id, spec.id
        step_ids = [st.id for st in service.steps_of(s, record_id)]
        moment.advance(minutes=1)
    print(f"built the plant; executing {steps} steps …", flush=True)
    with clock.frozen_at(START + timedelta(hours=1)) as moment:
        for first in range(0, len(step_ids), CHUNK):
            with unit_of_work(database) as s:
                for position, step_id in enumerate(step_ids[first : first + CHUNK], first + 1):
                    if position == 1:
                        entries.dispense_material(
                            s,
                            actor=operator,
                            step_id=step_id,
                            material_code="API",
                            lot_number="API-1",
                            quantity=50.1,
                            unit="kg",
                        )
                        entries.use_equipment(
                            s, actor=operator, step_id=step_id, equipment_code="BAL-1"
                        )
                    value = 112 if position % 400 == 0 else 100  # five out of their limits
                    entries.record_value(
                        s, actor=operator, step_id=step_id, name="setpoint", value=value, unit="rpm"
                    )
                    service.perform_step(s, actor=operator, step_id=step_id, password=PASSWORD)
                    if position % 10 == 0:
                        service.verify_step(s, actor=supervisor, step_id=step_id, password=PASSWORD)
                    moment.advance(seconds=5)
            print(f"  {min(first + CHUNK, len(step_ids))} steps", flush=True)
        with unit_of_work(database) as s:
            service.complete_batch_record(
                s, actor=supervisor, record_id=record_id, password=PASSWORD
            )
        with unit_of_work(database) as s:
            for found in exceptions.exceptions_of(s, record_id):
                exceptions.review_exception(
                    s,
                    actor=qa,
                    exception_id=found.id,
                    decision="accept",
                    reason="within the proven acceptable range",
                    password=PASSWORD,
                )
            results.record_result(
                s,
                actor=qc,
                lot_id=lot_id,
                sample_id="S-1",
                test_code="ASSAY",
                tested_at=clock.now(),
                value=100.2,
                unit="%",
            )
            coa = certificates.prepare_certificate(
                s, actor=qc, lot_id=lot_id, specification_id=spec_id
            )
            perform(s, CERTIFICATE_WORKFLOW, coa, "review", actor=qc, password=PASSWORD)
            perform(s, CERTIFICATE_WORKFLOW, coa, "approve", actor=qa, password=PASSWORD)
    return lot_id


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]  # nearest rank


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--evaluations", type=int, default=50)
    parser.add_argument("--path", type=Path, default=None, help="directory for the database")
    parser.add_argument(
        "--reuse", action="store_true", help="evaluate the batch already built in --path"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of evaluations")
    args = parser.parse_args()
    directory = args.path or Path(tempfile.mkdtemp(prefix="bench-release-"))
    path = directory / "release.db"
    if path.exists() and not args.reuse:
        path.unlink()
    database = Database(f"sqlite:///{path}")
    if args.reuse:
        with unit_of_work(database, write=False) as s:
            lot_id = masterdata.find_lot(s, "B-2000", "TAB").id
    else:
        started = time.perf_counter()
        lot_id = build(database, args.steps)
        print(f"batch built in {time.perf_counter() - started:.0f} s", flush=True)
    if args.profile:
        import cProfile
        import pstats

        with clock.frozen_at(START + timedelta(days=1)):
            profiler = cProfile.Profile()
            for _ in range(args.evaluations):
                with unit_of_work(database, write=False) as s:
                    profiler.enable()
                    evaluate_release(s, lot_id)
                    profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
            45
        )
        return

    # One evaluation with every statement captured: what the ceiling replays.
    captured: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        captured.append((statement, parameters))

    # The two bulk reads go to the DBAPI cursor directly, past the engine's events.
    bulk = evidence._rows

    def capture_bulk(session: Any, sql: str, *values: object) -> list[tuple[Any, ...]]:
        captured.append((sql.format(mark="?"), values))
        return bulk(session, sql, *values)

    with clock.frozen_at(START + timedelta(days=1)):
        # The first evaluation in this process parses the master's steps and hashes every
        # step; later ones find both remembered (pure functions of what they read).
        t0 = time.perf_counter()
        with unit_of_work(database, write=False) as s:
            evaluate_release(s, lot_id)
        cold = (time.perf_counter() - t0) * 1000
        event.listen(database.engine, "before_cursor_execute", capture)
        evidence._rows = capture_bulk  # type: ignore[assignment]
        with unit_of_work(database, write=False) as s:
            first = evaluate_release(s, lot_id)
        evidence._rows = bulk  # type: ignore[assignment]
        event.remove(database.engine, "before_cursor_execute", capture)
        statements = [
            (sql, params) for sql, params in captured if sql.lstrip().upper().startswith("SELECT")
        ]
        verdict = ", ".join(r.code for r in first.failing) or "all 11 rules pass"
        wall: list[float] = []
        cpu: list[float] = []
        for _ in range(args.evaluations):
            t0, c0 = time.perf_counter(), time.process_time()
            with unit_of_work(database, write=False) as s:
                evaluation = evaluate_release(s, lot_id)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            assert evaluation.hash == first.hash
    database.dispose()

    bare = sqlite3.connect(path)
    rows_fetched = 0
    ceiling: list[float] = []
    for _ in range(args.evaluations):
        t0 = time.perf_counter()
        rows_fetched = 0
        bare.execute("BEGIN")
        for sql, params in statements:
            rows_fetched += len(bare.execute(sql, params).fetchall())
        bare.execute("ROLLBACK")
        ceiling.append((time.perf_counter() - t0) * 1000)
    bare.close()

    p95, c95 = percentile(wall, 95), percentile(ceiling, 95)
    print(machine())
    print(f"batch: {args.steps} steps; checklist: {verdict}")
    print(f"queries per evaluation: {len(statements)} SELECTs ({rows_fetched} rows)")
    print(f"first evaluation in this process: {cold:.1f} ms")
    print(
        f"evaluate_release: p50 {statistics.median(wall):.1f} ms, p95 {p95:.1f} ms "
        f"(CPU p50 {statistics.median(cpu):.1f} ms, p95 {percentile(cpu, 95):.1f} ms) "
        f"over {args.evaluations} evaluations; target p95 < {TARGET_MS:.0f} ms: "
        f"{'met' if p95 < TARGET_MS else 'MISSED'}"
    )
    print(
        "ceiling (same SELECTs on bare sqlite3, rows fetched): "
        f"p50 {statistics.median(ceiling):.1f} ms, p95 {c95:.1f} ms; "
        f"evaluation / ceiling at p95: {p95 / c95:.1f}×"
    )


if __name__ == "__main__":
    main()
