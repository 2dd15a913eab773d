"""Constants and helpers shared by the tests."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any


def conformance_dir() -> Path:
    """The official GS1 EPCIS 2.0 examples: ``PHARMAQMS_CONFORMANCE_DIR``, else the workspace's
    shared folder beside the checkout, else its usual place on these machines."""
    given = os.environ.get("PHARMAQMS_CONFORMANCE_DIR")
    if given:
        return Path(given)
    beside = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "epcis"
    return beside if beside.is_dir() else Path("/work/shared/conformance/epcis")


PASSWORD = "Correct-Horse-9!"

# username: (full name, roles)
PEOPLE: dict[str, tuple[str, list[str]]] = {
    "admin": ("Ada Administrator", ["admin"]),
    "qa": ("Quentin Quality", ["qa"]),
    "qa2": ("Rosa Reviewer", ["qa"]),
    "qc": ("Chloe Chemist", ["qc_analyst"]),
    "operator": ("Otto Operator", ["production_operator"]),
    "supervisor": ("Sam Supervisor", ["production_supervisor"]),
    "qp": ("Petra Qualified", ["qualified_person"]),
    "pv": ("Victor Vigilance", ["pv_officer"]),
    "rd": ("Rita Research", ["rd_scientist"]),
    "logistics": ("Lars Logistics", ["logistics"]),
    "auditor": ("Ines Inspector", ["auditor"]),
}


def reviewed_version(client: Any, record_type: str, record_id: int) -> int:
    """The version of a record a signer reviewed: read as a client reads it before signing."""
    response = client.get(f"/api/v1/records/{record_type}/{record_id}")
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


def browser_login(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Log a TestClient in through the login form as a browser does: fetch the form (its
    pre-session token and cookie), then post it with the token. Returns the POST's response."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, form.text
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )


def name_job_role_in(session: Any, actor: Any, document_id: int) -> None:
    """Name the job role "All staff" (held by nobody) as the one trained on the document, as
    document control requires before a version that needs training comes into force."""
    from pharmaqms.quality.training.curricula import name_in_curriculum

    name_in_curriculum(
        session,
        actor=actor,
        job_role="All staff",
        curriculum="Procedures",
        document_id=document_id,
    )


_APP: Any = None


def app_for(database: Any) -> Any:
    """The application, on ``database`` (set as the process default).

    Built once per test process and reused: a server process also runs one application for
    every request, and the application holds no database of its own (it serves the process
    default). Building it is the costly part — FastAPI works out each route's parameters and
    models on an application's first requests, about 0.7 s of CPU — and most tests need only
    to call it. Tests about building the application (the key file check, a missing
    database) call ``create_app`` themselves."""
    global _APP
    from pharmaqms.kernel.db import set_database
    from pharmaqms.kernel.keys import keyring_for
    from pharmaqms.web.app import create_app

    if _APP is None:
        _APP = create_app(database)
        return _APP
    set_database(database)
    # What create_app checks for every database it serves: the key file that seals its writes.
    keyring_for(str(database.engine.url))
    return _APP
