"""The notebook over HTTP: the API's main reads and writes (a scientist writes, attaches raw
data and signs; QA witnesses), its refusals with nothing changed, and the pages (projects,
an experiment with its badges and amendment chain, the new entry form with a file, the
witness dialog, the disclosure button)."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from tests.lifecycle.rnd.eln_steps import MARKER, RAW, counts, notebook, signed_entry, write
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.eln import service
from pharmaqms.lifecycle.rnd.eln.disclosure import verify_bundle

API = "/api/v1/rnd"


def test_a_scientist_writes_attaches_and_signs_and_qa_witnesses_through_the_api(
    db: Any, people: Any, api: Any
) -> None:
    rd, qa = api("rd"), api("qa")
    project = rd.post(f"{API}/projects", json={"code": "GRAN-7", "title": "Wet granulation"})
    assert project.status_code == 201, project.text
    template = rd.post(
        f"{API}/templates",
        json={
            "experiment_type": "granulation",
            "name": "High-shear",
            "sections": [
                {"title": "Process", "fields": [{"name": "impeller_rpm", "kind": "number"}]}
            ],
        },
    )
    assert template.status_code == 201, template.text
    experiment = rd.post(
        f"{API}/experiments",
        json={
            "project_id": project.json()["id"],
            "template_id": template.json()["id"],
            "title": "Binder level screening",
            "protocol": "3 binder levels, 5 kg bowl",
            "materials": ["PVP K30"],
            "equipment": ["Diosna P10"],
        },
    )
    assert experiment.status_code == 201, experiment.text
    experiment_id = experiment.json()["id"]

    entry = rd.post(
        f"{API}/experiments/{experiment_id}/entries",
        json={"content": MARKER, "results": "LOD 1.8 %", "fields": {"impeller_rpm": "300"}},
    )
    assert entry.status_code == 201, entry.text
    entry_id = entry.json()["id"]
    attached = rd.post(
        f"{API}/entries/{entry_id}/files", files=[("files", ("nir.spc", RAW, "text/plain"))]
    )
    assert attached.status_code == 200, attached.text
    (stored,) = attached.json()["files"]
    assert (stored["name"], stored["size"], stored["media_type"]) == (
        "nir.spc",
        len(RAW),
        "application/octet-stream",  # sniffed from the bytes, not the claimed type
    )
    version = attached.json()["version"]
    signed = rd.post(
        f"{API}/entries/{entry_id}/sign", json={"password": PASSWORD, "expected_version": version}
    )
    assert signed.status_code == 200, signed.text
    witnessed = qa.post(
        f"{API}/entries/{entry_id}/witness",
        json={"password": PASSWORD, "expected_version": signed.json()["version"]},
    )
    assert witnessed.status_code == 200, witnessed.text

    body = rd.get(f"{API}/experiments/{experiment_id}").json()
    (shown,) = body["entries"]
    assert body["materials"] == ["PVP K30"] and shown["content"] == MARKER
    assert shown["status"] == "witnessed" and shown["check"]["intact"] is True
    assert [s["meaning"] for s in shown["signatures"]] == ["Authored", "Read and understood"]
    raw = rd.get(f"{API}/files/{stored['id']}")
    assert raw.content == RAW and raw.headers["x-content-sha256"] == stored["sha256"]
    assert rd.get(f"{API}/entries/{entry_id}/verify").json()["intact"] is True


def test_api_refusals_change_nothing(db: Any, people: Any, api: Any) -> None:
    book = notebook(db, people)
    entry_id = signed_entry(db, people, book)
    draft_id = write(db, people, book, "a draft", files=())
    rd, qa, auditor = api("rd"), api("qa"), api("auditor")
    trail = counts(db)

    refusals = [
        (rd.patch(f"{API}/entries/{entry_id}", json={"content": "rewritten"}), 409),
        (
            rd.post(
                f"{API}/entries/{entry_id}/witness",
                json={"password": PASSWORD, "expected_version": 3},
            ),
            403,
        ),
        (
            qa.post(
                f"{API}/entries/{draft_id}/witness",
                json={"password": PASSWORD, "expected_version": 1},
            ),
            409,
        ),
        (
            rd.post(
                f"{API}/entries/{draft_id}/sign",
                json={"password": "wrong-one", "expected_version": 1},
            ),
            401,
        ),
        (
            rd.post(
                f"{API}/entries/{draft_id}/sign", json={"password": PASSWORD, "expected_version": 9}
            ),
            409,
        ),
        (qa.post(f"{API}/experiments/{book.experiment_id}/entries", json={"content": "x"}), 403),
        (auditor.get(f"{API}/experiments/{book.experiment_id}"), 403),
        (
            rd.post(
                f"{API}/experiments/{book.experiment_id}/entries",
                json={"content": "x", "fields": {"rpm": "fast"}},
            ),
            422,
        ),
        (rd.post(f"{API}/experiments/{book.experiment_id}/disclosure", json={"entries": [1]}), 403),
        (qa.post(f"{API}/experiments/{book.experiment_id}/disclosure", json={"entries": [7]}), 422),
        (
            rd.post(
                f"{API}/entries/{entry_id}/files",
                files=[("files", ("late.csv", b"1,2", "text/csv"))],
            ),
            409,
        ),
    ]

    assert [r.status_code for r, _ in refusals] == [code for _, code in refusals], [
        r.text[:200] for r, _ in refusals
    ]
    # a wrong password is counted and audited (Part 11): that one entry, nothing else
    audit_entries, signatures = counts(db)
    assert (audit_entries - trail[0], signatures) == (1, trail[1])
    with unit_of_work(db, write=False) as s:
        assert service.get_entry(s, draft_id).status == "draft"
        assert service.get_entry(s, entry_id).status == "signed"


def test_the_disclosure_api_answers_a_bundle_that_verifies_offline(
    db: Any, people: Any, api: Any
) -> None:
    book = notebook(db, people)
    signed_entry(db, people, book)
    signed_entry(db, people, book, content="a second, withheld entry", files=())

    response = api("qa").post(
        f"{API}/experiments/{book.experiment_id}/disclosure", json={"entries": [1]}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    report = verify_bundle(response.content)
    assert report.valid and [e.number for e in report.entries] == [report.entries[0].number]
    assert len(report.withheld) == 1
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        assert b"withheld entry" not in b"".join(bundle.read(n) for n in bundle.namelist())


# --- pages ------------------------------------------------------------------------------------


def _ui(app: Any, username: str) -> UiClient:
    client = UiClient(app)
    assert client.login(username).status_code == 303
    return client


def _flash(response: Any) -> str:
    from urllib.parse import unquote

    return unquote(response.cookies.get("pqms_flash", ""))


def test_the_pages_take_a_project_an_experiment_an_entry_with_a_file_and_a_witness(
    db: Any, people: Any, app: Any
) -> None:
    rd = _ui(app, "rd")
    assert "No R&amp;D projects yet." in rd.get("/rnd").text
    created = rd.post(
        "/rnd/projects", {"code": "LYO-2", "title": "Lyophilisation cycle"}, referer="/rnd"
    )
    assert created.status_code == 303, _flash(created)
    rd.post(
        "/rnd/templates",
        {
            "experiment_type": "lyophilisation",
            "name": "Cycle",
            "sections": "Cycle: shelf_c:number, notes",
        },
        referer="/rnd",
    )
    project_page = rd.follow(created)
    assert "Start an experiment" in project_page.text
    template_id = re.search(r'<option value="(\d+)">lyophilisation', project_page.text)
    assert template_id
    project_url = created.headers["location"]
    started = rd.post(
        f"{project_url}/experiments",
        {
            "title": "Primary drying",
            "protocol": "−40 °C freeze",
            "template_id": template_id.group(1),
            "materials": "sucrose\nmannitol",
        },
        referer=project_url,
    )
    experiment_url = started.headers["location"]
    page = rd.get(experiment_url)
    assert "sucrose, mannitol" in page.text and 'name="f_shelf_c"' in page.text

    written = rd.client.post(
        f"{experiment_url}/entries",
        data={
            "csrf_token": rd.csrf_token,
            "content": MARKER,
            "f_shelf_c": "-25",
            "results": "cake intact",
        },
        files=[("files", ("cycle.csv", b"t,T\n0,-40\n", "text/csv"))],
        headers={"referer": f"http://testserver{experiment_url}"},
    )
    assert written.status_code == 303, _flash(written)
    page = rd.get(experiment_url)
    assert MARKER in page.text and "cycle.csv" in page.text and 'data-badge="draft"' in page.text
    # every button opens a dialog that is on the page
    opened = re.findall(r'data-open-dialog="([^"]+)"', page.text)
    assert opened and all(f'<dialog id="{d}"' in page.text for d in opened)
    sign_action = re.search(r'action="(/rnd/entries/\d+/transitions)/sign"', page.text)
    version = re.search(r'name="expected_version" value="(\d+)"', page.text)
    assert sign_action and version
    signed = rd.post(
        f"{sign_action.group(1)}/sign",
        {"password": PASSWORD, "expected_version": version.group(1)},
        referer=experiment_url,
    )
    assert signed.status_code == 303 and "signed; SHA-256" in _flash(signed)
    page = rd.get(experiment_url)
    assert (
        'data-badge="signed"' in page.text
        and "witness" not in page.text.lower().split("new entry")[0].split("rnd-entries")[1]
    )

    qa = _ui(app, "qa")
    page = qa.get(experiment_url)
    assert 'data-transition="witness"' in page.text and "Read and understood" in page.text
    opened = re.findall(r'data-open-dialog="([^"]+)"', page.text)
    assert opened and all(f'<dialog id="{d}"' in page.text for d in opened)
    version = re.search(r'name="expected_version" value="(\d+)"', page.text)
    assert version
    witnessed = qa.post(
        f"{sign_action.group(1)}/witness",
        {"password": PASSWORD, "expected_version": version.group(1)},
        referer=experiment_url,
    )
    assert witnessed.status_code == 303 and "witnessed" in _flash(witnessed)
    page = qa.get(experiment_url)
    assert 'data-badge="witnessed"' in page.text and 'id="disclose"' in page.text
    bundle = qa.client.post(
        f"{experiment_url}/disclosure",
        data={"csrf_token": qa.csrf_token, "entries": ["1"]},
        headers={"referer": f"http://testserver{experiment_url}"},
    )
    assert bundle.status_code == 200 and verify_bundle(bundle.content).valid


def test_the_experiment_page_shows_the_amendment_chain(db: Any, people: Any, app: Any) -> None:
    book = notebook(db, people)
    original = signed_entry(db, people, book)
    signed_entry(db, people, book, content="corrected Q30", files=(), amends_id=original)

    page = _ui(app, "qa").get(f"/rnd/experiments/{book.experiment_id}")

    assert page.status_code == 200
    assert 'data-badge="amended"' in page.text and "<strong>amends</strong>" in page.text
    assert page.text.count('data-badge="signed"') == 2


@pytest.mark.parametrize("username", ["auditor", "operator"])
def test_who_may_not_read_the_notebook_is_refused_its_pages(
    db: Any, people: Any, app: Any, username: str
) -> None:
    book = notebook(db, people)
    client = _ui(app, username)
    for url in ("/rnd", f"/rnd/experiments/{book.experiment_id}"):
        page = client.get(url)
        assert page.status_code == 403 and MARKER not in page.text


def test_the_generic_record_route_witnesses_with_the_attestation_and_refuses_an_unhashed_sign(
    db: Any, people: Any, api: Any
) -> None:
    book = notebook(db, people)
    signed = signed_entry(db, people, book, files=())
    draft = write(db, people, book, "not hashed yet", files=())
    qa, rd = api("qa"), api("rd")
    trail = counts(db)

    refused = rd.post(
        f"/api/v1/records/rnd_entry/{draft}/transitions/sign",
        json={"password": PASSWORD, "expected_version": 1},
    )
    assert refused.status_code == 409 and "signed from its experiment page" in refused.text
    assert counts(db) == trail

    version = qa.get(f"{API}/experiments/{book.experiment_id}").json()["entries"][0]["version"]
    witnessed = qa.post(
        f"/api/v1/records/rnd_entry/{signed}/transitions/witness",
        json={"password": PASSWORD, "expected_version": version},
    )

    assert witnessed.status_code == 200, witnessed.text
    with unit_of_work(db, write=False) as s:
        meanings = [a.meaning for a in service.attestations_of(s, signed)]
        assert meanings == ["Authored", "Read and understood"]
    assert rd.get(f"{API}/entries/{signed}/verify").json()["intact"] is True


def test_a_sign_off_before_the_witness_is_signed_from_the_experiment_page_per_entry(
    db: Any, people: Any, app: Any, frozen_clock: Any
) -> None:
    from tests.compliance.configuration_steps import sign_off_in_force

    book = notebook(db, people)
    first = signed_entry(db, people, book, files=())
    second = signed_entry(db, people, book, content="a second entry", files=())
    step = sign_off_in_force(
        db, people, frozen_clock, "rnd_entry", "data_review",
        label="QA reviews the data", before="witness", roles=["qa"],
    )  # fmt: skip

    qa = _ui(app, "qa")
    page = qa.get(f"/rnd/experiments/{book.experiment_id}").text
    # one dialog per entry, each posting to the entry's generic transitions URL
    for entry in (first, second):
        assert f'data-open-dialog="dialog-{step}-{entry}"' in page
        assert f'action="/records/rnd_entry/{entry}/transitions/{step}"' in page
    assert f"/rnd/entries/{first}/transitions/{step}" not in page
    assert 'data-transition="witness"' not in page  # the witness waits for the review

    with unit_of_work(db, write=False) as s:
        version = service.get_entry(s, first).version
    signed = qa.post(
        f"/records/rnd_entry/{first}/transitions/{step}",
        {"password": PASSWORD, "expected_version": str(version)},
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == f"/rnd/experiments/{book.experiment_id}#entry-{first}"
    page = _ui(app, "qa2").get(f"/rnd/experiments/{book.experiment_id}").text
    assert f'data-open-dialog="dialog-witness-{first}"' in page
    assert f'data-open-dialog="dialog-witness-{second}"' not in page
