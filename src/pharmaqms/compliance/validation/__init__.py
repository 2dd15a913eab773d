"""Validation evidence: the Part 11 / Annex 11 / ALCOA+ traceability matrix, clause →
requirement as this system meets it → the automated tests that show it → their last result.

Nothing here runs tests: it reads the JUnit XML the last ``make test`` wrote, in which each
test marked ``@pytest.mark.clause(...)`` carries its clause ids as properties."""
