"""``/compliance/validation``: the traceability matrix from the last test run, with a coverage
bar per regulation and the clauses not shown in red. Reads the JUnit XML ``make test`` wrote;
runs nothing. Without usable results the page says why and shows every clause as a gap."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pharmaqms.compliance.validation.matrix import build_matrix
from pharmaqms.compliance.validation.pdf import run_line
from pharmaqms.compliance.validation.results import (
    ResultsRefused,
    default_results_path,
    read_results,
)
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.templating import render

router = APIRouter(tags=["ui"], include_in_schema=False)
PAGE = "/compliance/validation"

add(NavItem("Compliance", "Validation evidence", PAGE, "records.read", 30))


@router.get(PAGE, response_class=HTMLResponse)
def validation_matrix(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the validation evidence")
    problem = None
    try:
        run = read_results(default_results_path())
    except ResultsRefused as err:
        run, problem = None, err.detail
    matrix = build_matrix(run)
    return render(
        request,
        "compliance/validation.html",
        {"matrix": matrix, "run_line": run_line(matrix), "problem": problem},
    )
