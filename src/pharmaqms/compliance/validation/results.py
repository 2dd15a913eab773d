"""The last test run, read from the JUnit XML pytest writes (``--junitxml``): each test case
with its outcome and the clause ids its ``clause`` marker gave it (as ``<property
name="clause">``). Strict: a file that is missing, not XML, or not a pytest JUnit report is
refused with one clear line, never read as "no tests"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from lxml import etree

from pharmaqms.kernel.errors import InvalidInput

# A full run writes a few MB; far more is not a test report.
MAX_BYTES = 64 * 1024 * 1024
CLAUSE_PROPERTY = "clause"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class, despite its name

    nodeid: str  # "tests/kernel/test_auth.py::test_x[sqlite]"
    outcome: Outcome
    clauses: tuple[str, ...]


@dataclass(frozen=True)
class TestRun:
    __test__ = False

    source: str
    started_at: datetime | None
    results: tuple[TestResult, ...]

    @property
    def counts(self) -> dict[Outcome, int]:
        counts = dict.fromkeys(Outcome, 0)
        for r in self.results:
            counts[r.outcome] += 1
        return counts


class ResultsRefused(InvalidInput):
    code = "test_results_refused"
    title = "Test results refused"


def read_results(path: Path) -> TestRun:
    """The run at ``path``, or ResultsRefused saying what is wrong with it."""
    if not path.is_file():
        raise ResultsRefused(
            f"no test results at {path}: run `make test` first (it writes var/test-results.xml)"
        )
    if path.stat().st_size > MAX_BYTES:
        raise ResultsRefused(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB")
    return parse_results(path.read_bytes(), source=str(path))


def parse_results(data: bytes, *, source: str) -> TestRun:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise ResultsRefused(f"{source} is not a readable JUnit XML file: {err}") from None
    if root.tag == "testsuite":
        suites = [root]
    elif root.tag == "testsuites":
        suites = list(root.iterchildren("testsuite"))
    else:
        raise ResultsRefused(
            f"{source} is not a JUnit XML report: its root is <{root.tag}>, "
            "not <testsuites> or <testsuite>"
        )
    if not suites:
        raise ResultsRefused(f"{source} holds no <testsuite>")
    results = [_case(case, source) for suite in suites for case in suite.iterchildren("testcase")]
    return TestRun(source=source, started_at=_started(suites[0], source), results=tuple(results))


def _started(suite: etree._Element, source: str) -> datetime | None:
    stamp = suite.get("timestamp")
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        raise ResultsRefused(f"{source}: the run's timestamp {stamp!r} is not a date") from None
    # pytest writes its offset; a report from an older pytest has none and its zone is unknown:
    # showing it as UTC would be a guess, so the date is left out instead.
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def _case(case: etree._Element, source: str) -> TestResult:
    name = case.get("name")
    if not name:
        raise ResultsRefused(f"{source}: a <testcase> on line {case.sourceline} has no name")
    classname = case.get("classname") or ""
    outcome = Outcome.PASSED
    for child in case:
        if child.tag in ("failure", "error"):
            outcome = Outcome.FAILED
            break
        if child.tag == "skipped":
            outcome = Outcome.SKIPPED
    clauses = tuple(
        value
        for prop in case.iterfind("properties/property")
        if prop.get("name") == CLAUSE_PROPERTY and (value := prop.get("value"))
    )
    return TestResult(nodeid=_nodeid(classname, name), outcome=outcome, clauses=clauses)


def _nodeid(classname: str, name: str) -> str:
    """pytest writes the node id's path with dots for slashes and no ``.py``
    (``tests.kernel.test_auth``, then any class): shown back as the path a person runs."""
    parts = classname.split(".") if classname else []
    modules = [i for i, p in enumerate(parts) if p.startswith("test_") or p.endswith("_test")]
    if not modules:
        return "::".join([*parts, name])
    end = modules[-1] + 1
    return "::".join(["/".join(parts[:end]) + ".py", *parts[end:], name])


def default_results_path() -> Path:
    """Where ``make test`` writes the run (``var/test-results.xml`` under the var directory)."""
    from pharmaqms.kernel.settings import get_settings

    return get_settings().var_dir / "test-results.xml"
