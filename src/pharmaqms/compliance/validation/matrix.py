"""The traceability matrix: each catalogued clause with the tests of the last run that name it
and what became of them, and per regulation how many clauses a passing test shows.

A clause's status:
- ``shown``: at least one of its tests passed and none failed;
- ``failing``: one of its tests failed (a passing sibling does not outweigh it);
- ``gap``: no test passed (none is marked, or every one was skipped).
Both of the last two count as not shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pharmaqms.compliance.validation.clauses import BY_ID, CLAUSES, REGULATIONS, Clause
from pharmaqms.compliance.validation.results import Outcome, TestResult, TestRun


class Status(StrEnum):
    SHOWN = "shown"
    FAILING = "failing"
    GAP = "gap"


@dataclass(frozen=True)
class ClauseRow:
    clause: Clause
    tests: tuple[TestResult, ...]

    @property
    def status(self) -> Status:
        outcomes = {t.outcome for t in self.tests}
        if Outcome.FAILED in outcomes:
            return Status.FAILING
        if Outcome.PASSED in outcomes:
            return Status.SHOWN
        return Status.GAP


@dataclass(frozen=True)
class Coverage:
    key: str
    title: str
    clauses: int
    shown: int
    failing: int

    @property
    def gaps(self) -> int:
        return self.clauses - self.shown - self.failing

    @property
    def percent(self) -> int:
        return round(100 * self.shown / self.clauses) if self.clauses else 0


@dataclass(frozen=True)
class Matrix:
    run: TestRun | None  # None: no results yet, every clause is a gap
    rows: tuple[ClauseRow, ...]
    # Clause ids in the results that the catalogue no longer holds (a report older than it).
    unknown_clauses: tuple[str, ...]

    @property
    def run_at(self) -> datetime | None:
        return self.run.started_at if self.run else None

    def coverage(self) -> list[Coverage]:
        out = []
        for regulation in REGULATIONS:
            rows = [r for r in self.rows if r.clause.regulation == regulation.key]
            out.append(
                Coverage(
                    regulation.key,
                    regulation.title,
                    len(rows),
                    sum(1 for r in rows if r.status is Status.SHOWN),
                    sum(1 for r in rows if r.status is Status.FAILING),
                )
            )
        return out

    def not_shown(self) -> list[ClauseRow]:
        return [r for r in self.rows if r.status is not Status.SHOWN]

    def as_json(self) -> dict[str, Any]:
        return {
            "run": None
            if self.run is None
            else {
                "source": self.run.source,
                "started_at": self.run.started_at.isoformat() if self.run.started_at else None,
                "tests": len(self.run.results),
                **{o.value: n for o, n in self.run.counts.items()},
            },
            "coverage": [
                {
                    "regulation": c.key,
                    "title": c.title,
                    "clauses": c.clauses,
                    "shown": c.shown,
                    "failing": c.failing,
                    "gaps": c.gaps,
                    "percent": c.percent,
                }
                for c in self.coverage()
            ],
            "clauses": [
                {
                    "clause": r.clause.id,
                    "title": r.clause.title,
                    "requirement": r.clause.requirement,
                    "status": r.status.value,
                    "tests": [{"test": t.nodeid, "outcome": t.outcome.value} for t in r.tests],
                }
                for r in self.rows
            ],
            "unknown_clauses": list(self.unknown_clauses),
        }


def build_matrix(run: TestRun | None) -> Matrix:
    by_clause: dict[str, list[TestResult]] = {c.id: [] for c in CLAUSES}
    unknown: set[str] = set()
    for result in run.results if run else ():
        for clause_id in dict.fromkeys(result.clauses):
            if clause_id in BY_ID:
                by_clause[clause_id].append(result)
            else:
                unknown.add(clause_id)
    rows = tuple(
        ClauseRow(c, tuple(sorted(by_clause[c.id], key=lambda t: t.nodeid))) for c in CLAUSES
    )
    return Matrix(run=run, rows=rows, unknown_clauses=tuple(sorted(unknown)))
