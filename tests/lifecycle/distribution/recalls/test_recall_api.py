"""The recall API (/api/v1/distribution/recalls): a recall worked end to end by QA and
logistics, and refusals as problem+json that change nothing."""

from __future__ import annotations

from typing import Any

from tests.lifecycle.distribution.recalls.chain import load
from tests.support import PASSWORD

BASE = "/api/v1/distribution/recalls"


def test_a_recall_through_the_api(db, people, api) -> None:  # type: ignore[no-untyped-def]
    chain = load(db, people, lots=2)
    answer = next(iter(chain.truth.values()))
    qa, logistics, operator = api("qa"), api("logistics"), api("operator")
    body: dict[str, Any] = {
        "subjects": [f"{answer.product}/{answer.lot_number}"],
        "classification": "I",
        "depth": "patient",
        "reason": "sterility failure",
        "target_pct": 50,
    }
    assert operator.post(BASE, json=body).status_code == 403
    bad = qa.post(BASE, json={**body, "classification": "IV"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert qa.get(BASE).json() == []
    made = qa.post(BASE, json=body)
    assert made.status_code == 201, made.text
    recall = made.json()
    rid = recall["id"]
    assert recall["status"] == "draft" and recall["lots"] == [answer.lot_class]
    rows = recall["notifications"]
    assert rows and all(r["outstanding"] == r["quantity_shipped"] for r in rows)
    wrong = qa.post(f"{BASE}/{rid}/approve", json={"password": "wrong"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert qa.get(f"{BASE}/{rid}").json()["status"] == "draft"
    assert qa.post(f"{BASE}/{rid}/approve", json={"password": PASSWORD}).status_code == 200
    assert logistics.post(f"{BASE}/{rid}/notify").json()["status"] == "in_progress"
    customers = [r for r in rows if r["is_customer"]]
    for row in customers:
        url = f"{BASE}/{rid}/notifications/{row['id']}"
        done = logistics.post(
            f"{url}/acknowledge", json={"acknowledged_by": "pharmacist", "how": "email"}
        )
        assert done.status_code == 200, done.text
        assert done.json()["acknowledged_how"] == "email"
        back = logistics.post(f"{url}/returns", json={"quantity": row["quantity_shipped"]})
        assert back.json()["outstanding"] == 0
    too_many = logistics.post(
        f"{BASE}/{rid}/notifications/{customers[0]['id']}/returns", json={"quantity": 1}
    )
    assert too_many.status_code == 409
    elsewhere = logistics.post(f"{BASE}/{rid + 1}/notifications/{customers[0]['id']}/returns",
                               json={"quantity": 1})  # fmt: skip
    assert elsewhere.status_code == 404
    register = qa.get(BASE).json()
    assert register[0]["effectiveness"]["acknowledged_pct"] == 100.0
    assert register[0]["effectiveness"]["met"] is True
    closed = qa.post(f"{BASE}/{rid}/close", json={"password": PASSWORD})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
