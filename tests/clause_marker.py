"""The ``clause`` marker: ``@pytest.mark.clause("part11:11.10(e)", "annex11:9")`` says that a
test shows those clauses. At collection every id is checked against the catalogue
(``pharmaqms.compliance.validation.clauses``) — an unknown one stops the run, as
``--strict-markers`` does for an unknown marker — and written onto the test as a
``clause`` property, which ``--junitxml`` puts in the report (also from pytest-xdist workers,
which send the properties back with each report)."""

from __future__ import annotations

import pytest

from pharmaqms.compliance.validation.clauses import unknown_clause_ids
from pharmaqms.compliance.validation.results import CLAUSE_PROPERTY


def clause_ids(item: pytest.Item) -> list[str]:
    """The clause ids of every ``clause`` marker on the test, its class and its module."""
    ids: list[str] = []
    for marker in item.iter_markers("clause"):
        if not marker.args or marker.kwargs:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.clause takes one or more clause ids, "
                'e.g. @pytest.mark.clause("part11:11.10(e)")'
            )
        ids.extend(str(arg) for arg in marker.args)
    return list(dict.fromkeys(ids))


def mark_clauses(items: list[pytest.Item]) -> None:
    """Check and record every test's clause ids (called from the hook in conftest.py)."""
    for item in items:
        ids = clause_ids(item)
        unknown = unknown_clause_ids(ids)
        if unknown:
            raise pytest.UsageError(
                f"{item.nodeid}: unknown clause id {', '.join(map(repr, unknown))} in "
                "@pytest.mark.clause (see pharmaqms/compliance/validation/clauses.py)"
            )
        item.user_properties.extend((CLAUSE_PROPERTY, i) for i in ids)


# The hook itself, for a run that loads this module alone as its conftest (the clause
# catalogue's own tests); the project's conftest.py calls mark_clauses from its hook.
pytest_collection_modifyitems = mark_clauses
