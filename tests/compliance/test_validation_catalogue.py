"""The clause catalogue and the ``clause`` marker: the catalogue holds the clauses the issue
names (in step with the regulations register), and a marker naming a clause the catalogue does
not hold stops the run; the ids a marker gives reach the JUnit XML, also through xdist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pharmaqms.compliance import fileformat
from pharmaqms.compliance.validation.clauses import BY_ID, CLAUSES, unknown_clause_ids
from pharmaqms.compliance.validation.results import read_results

pytestmark = pytest.mark.clause("annex11:4")
ROOT = Path(__file__).resolve().parents[2]

PART11 = [f"11.10({letter})" for letter in "abcdefghijk"] + [
    "11.50",
    "11.70",
    "11.100",
    "11.200",
    "11.300",
]
ALCOA = [
    "attributable",
    "legible",
    "contemporaneous",
    "original",
    "accurate",
    "complete",
    "consistent",
    "enduring",
    "available",
]


def test_the_catalogue_holds_every_clause_once_with_a_title_and_a_requirement() -> None:
    assert [c.id for c in CLAUSES] == (
        [f"part11:{n}" for n in PART11]
        + [f"annex11:{n}" for n in range(1, 18)]
        + [f"alcoa:{n}" for n in ALCOA]
    )
    assert len(BY_ID) == len(CLAUSES)
    for clause in CLAUSES:
        assert clause.title.strip() and len(clause.requirement) > 40, clause.id


def test_the_catalogue_numbers_the_clauses_as_the_regulations_register_does() -> None:
    register = {r.code: [q.clause for q in r.requirements] for r in fileformat.shipped_register()}
    assert register["21 CFR 11"] == [c.number for c in CLAUSES if c.regulation == "part11"]
    assert register["EU GMP Annex 11"] == [c.number for c in CLAUSES if c.regulation == "annex11"]


def test_unknown_clause_ids_are_named_in_order() -> None:
    assert unknown_clause_ids(["part11:11.10(e)", "part11:11.10(z)", "annex 11:9"]) == [
        "part11:11.10(z)",
        "annex 11:9",
    ]


def _pytest(tmp_path: Path, test_code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A small pytest run in its own directory, with the project's clause marker hook."""
    (tmp_path / "conftest.py").write_text(
        "from tests.clause_marker import pytest_collection_modifyitems  # noqa: F401\n"
    )
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\nmarkers =\n    clause: x\n"
    )
    (tmp_path / "test_marked.py").write_text(test_code)
    # Only the plugins the run needs: loading every installed one costs seconds.
    # Nothing of an outer run (an xdist worker's PYTEST_XDIST_WORKER, …) leaks into this one.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_marker_with_an_unknown_clause_id_stops_the_run(tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        "import pytest\n\n"
        '@pytest.mark.clause("part11:11.10(e)", "part11:11.10(l)")\n'
        "def test_x():\n    pass\n",
    )
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "test_marked.py::test_x: unknown clause id 'part11:11.10(l)'" in done.stderr


def test_a_marker_without_ids_stops_the_run(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "import pytest\n\n@pytest.mark.clause\ndef test_x():\n    pass\n")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "takes one or more clause ids" in done.stderr


def test_the_clause_ids_reach_the_junit_xml_from_an_xdist_worker(tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        "import pytest\n\n"
        'pytestmark = pytest.mark.clause("alcoa:complete")\n\n'
        '@pytest.mark.clause("part11:11.10(e)", "annex11:9")\n'
        "def test_shown():\n    pass\n\n"
        '@pytest.mark.clause("part11:11.10(d)")\n'
        "def test_broken():\n    assert False\n",
        "-p",
        "xdist.plugin",
        "-n",
        "1",
        "--junitxml=out.xml",
    )
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    run = read_results(tmp_path / "out.xml")
    found = {r.nodeid: (r.outcome.value, set(r.clauses)) for r in run.results}
    assert found == {
        "test_marked.py::test_shown": (
            "passed",
            {"part11:11.10(e)", "annex11:9", "alcoa:complete"},
        ),
        "test_marked.py::test_broken": ("failed", {"part11:11.10(d)", "alcoa:complete"}),
    }
    assert run.started_at is not None
