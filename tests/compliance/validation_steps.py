"""A small hand-written JUnit XML, as pytest writes it, for the validation report tests."""

from __future__ import annotations

from pathlib import Path

RUN_AT = "2026-12-01T10:00:00.000000+00:00"


def case(module: str, name: str, clauses: tuple[str, ...], outcome: str = "passed") -> str:
    props = "".join(f'<property name="clause" value="{c}" />' for c in clauses)
    body = f"<properties>{props}</properties>" if props else ""
    if outcome == "failed":
        body += '<failure message="assert 0">assert 0</failure>'
    elif outcome == "error":
        body += '<error message="fixture broke">boom</error>'
    elif outcome == "skipped":
        body += '<skipped type="pytest.skip" message="PostgreSQL not available">skip</skipped>'
    return f'<testcase classname="{module}" name="{name}" time="0.010">{body}</testcase>'


def junit(*cases: str, timestamp: str = RUN_AT) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        f'<testsuite name="pytest" errors="0" failures="0" skipped="0" tests="{len(cases)}" '
        f'time="1.0" timestamp="{timestamp}" hostname="ci">{"".join(cases)}</testsuite>'
        "</testsuites>"
    )


# One test per situation: a clause shown, one with a failing test beside a passing one, one
# whose only test was skipped, and (by leaving it out) every other clause: a gap.
SMALL_RUN = junit(
    case("tests.kernel.test_audit_capture", "test_who_when[sqlite]", ("part11:11.10(e)",)),
    case(
        "tests.kernel.test_audit_capture",
        "test_who_when[postgresql]",
        ("part11:11.10(e)", "alcoa:attributable"),
    ),
    case("tests.web.test_access", "test_deny_by_default", ("part11:11.10(d)",)),
    case("tests.web.test_access", "test_tokens", ("part11:11.10(d)",), "failed"),
    case("tests.kernel.test_backup", "test_restore[postgresql]", ("annex11:7",), "skipped"),
    case("tests.kernel.test_misc", "test_unmarked", ()),
    case("tests.kernel.test_old", "test_old_clause", ("part11:11.99",)),
)


def write(tmp_path: Path, text: str, name: str = "test-results.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
