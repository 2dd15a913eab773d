"""``pharmaqms trace``, the genealogy and recall-scope endpoints, and the genealogy page, over
the generated supply chain."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import Api
from tests.support import app_for, browser_login
from typer.testing import CliRunner

from pharmaqms.cli.main import app as cli
from pharmaqms.platform.genealogy.generator import Chain, LotTruth
from pharmaqms.platform.genealogy.schemas import GenealogyOut, RecallScopeOut
from pharmaqms.platform.trace import canonical

runner = CliRunner()


def _first(generated: Chain) -> LotTruth:
    return next(iter(generated.truth.values()))


def test_trace_prints_the_recall_scope_of_a_lot(chain) -> None:  # type: ignore[no-untyped-def]
    _database, generated = chain
    answer = _first(generated)
    result = runner.invoke(cli, ["trace", f"{answer.product}/{answer.lot_number}", "-d", "down"])
    assert result.exit_code == 0, result.output
    # The kind is said once: the label "batch …" names it already (never "lot batch …").
    assert result.output.splitlines()[0] == f"batch {answer.product}/{answer.lot_number}"
    assert f"packs ({len(answer.packs)})" in result.output
    assert f"pallets (1): SSCC {next(iter(answer.pallets)).rsplit('/', 1)[-1]}" in result.output
    assert "recall scope:" in result.output


def test_trace_json_is_the_graph_with_its_recall_scope(chain) -> None:  # type: ignore[no-untyped-def]
    _database, generated = chain
    answer = _first(generated)
    pack = sorted(answer.packs)[0]
    serial = pack.rsplit("/", 1)[-1]
    gtin = pack.split("/")[-3]
    result = runner.invoke(
        cli, ["trace", f"(01){gtin}(21){serial}", "--direction", "both", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    kinds = {n["id"]: n["kind"] for n in body["nodes"]}
    assert (body["start"], body["direction"], kinds[pack]) == (pack, "both", "pack")
    assert kinds[answer.lot_class] == "lot"
    assert {m: kinds[m] for m in answer.materials} == {m: "material" for m in answer.materials}
    scope = body["recall_scope"]
    assert scope["items"] == [pack]
    assert set(scope["containers"]) <= answer.cases | answer.pallets


def test_trace_at_a_time_before_shipping_shows_only_the_site(chain) -> None:  # type: ignore[no-untyped-def]
    _database, generated = chain
    answer = _first(generated)
    assert answer.shipped_at is not None
    before = (answer.shipped_at - timedelta(minutes=1)).isoformat()
    result = runner.invoke(cli, ["trace", answer.lot_class, "-d", "down", "--at", before, "--json"])
    assert result.exit_code == 0, result.output
    scope = json.loads(result.output)["recall_scope"]
    assert [loc["code"] for loc in scope["locations"]] == ["SITE-LEIDEN"]


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        (
            "095060000000000016",
            "error: bad_check_digit: SSCC 095060000000000016 has a bad check digit",
        ),
        (
            "urn:epc:id:sgtin:9506000.013435",
            "error: invalid_epc: expected 3 dot-separated components in "
            "'urn:epc:id:sgtin:9506000.013435'",
        ),
        (
            "NO-SUCH-LOT",
            "error: not_found: 'NO-SUCH-LOT' is no known lot and not a GS1 identifier (EPC URI, "
            "Digital Link, element string or SSCC)",
        ),
    ],
)
def test_trace_refuses_a_bad_identifier_with_one_line_and_exit_2(  # type: ignore[no-untyped-def]
    chain, identifier, message
) -> None:
    result = runner.invoke(cli, ["trace", identifier])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")


def test_trace_refuses_a_time_without_offset(chain) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["trace", "SC000001", "--at", "2026-01-01T00:00:00"])
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --at '2026-01-01T00:00:00' has no UTC offset (e.g. 2026-03-01T12:00:00+01:00)\n",
    )


def test_the_api_answers_genealogy_and_recall_scope(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = _first(generated)
    api = Api(app_for(database), "auditor")
    lot = f"{answer.product}/{answer.lot_number}"
    graph = api.get(f"/api/v1/data/genealogy/{lot}", params={"direction": "up"})
    assert graph.status_code == 200, graph.text
    assert {n["id"] for n in graph.json()["nodes"] if n["kind"] == "material"} == answer.materials
    GenealogyOut.model_validate(graph.json())  # as the OpenAPI document promises
    scope = api.get(f"/api/v1/data/trace/{lot}/recall-scope")
    assert scope.status_code == 200, scope.text
    body = scope.json()
    RecallScopeOut.model_validate(body)
    both = api.get(f"/api/v1/data/genealogy/{lot}")
    assert both.status_code == 200, both.text
    assert GenealogyOut.model_validate(both.json()).recall_scope is not None
    assert set(body["items"]) == answer.packs
    assert {loc["id"] for loc in body["locations"]} == {canonical(p) for p in answer.locations}
    assert [c["is_customer"] for c in body["customers"]] == [True] * len(body["customers"])
    bad = api.get(f"/api/v1/data/trace/{quote('urn:epc:id:sscc:9506000.00000000')}/recall-scope")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_epc")
    unknown = api.get("/api/v1/data/genealogy/NO-SUCH-LOT")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


def test_the_recall_scope_and_the_graph_export_as_csv_and_parquet(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = _first(generated)
    api = Api(app_for(database), "auditor")
    lot = f"{answer.product}/{answer.lot_number}"
    as_json = api.get(f"/api/v1/data/trace/{lot}/recall-scope").json()

    listed = api.get(f"/api/v1/data/trace/{lot}/recall-scope", params={"format": "csv"})
    assert listed.status_code == 200, listed.text
    assert listed.headers["content-type"].startswith("text/csv")
    assert "attachment" in listed.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(listed.text)))
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], set()).add(row["id"])
    assert by_kind["pack"] == answer.packs
    assert by_kind["lot"] == set(as_json["lots"])
    assert by_kind["customer"] == {c["id"] for c in as_json["customers"]}
    assert by_kind["customer"] | by_kind.get("location", set()) == {
        canonical(p) for p in answer.locations
    }
    kinds = [row["kind"] for row in rows]
    assert kinds.index("customer") < kinds.index("location")  # the people to call come first

    parquet = api.get(f"/api/v1/data/trace/{lot}/recall-scope", params={"format": "parquet"})
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == len(rows)
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")

    nodes = api.get(f"/api/v1/data/genealogy/{lot}", params={"direction": "up", "format": "csv"})
    materials = {
        r["id"] for r in csv.DictReader(io.StringIO(nodes.text)) if r["kind"] == "material"
    }
    assert materials == answer.materials
    refused = api.get(f"/api/v1/data/trace/{lot}/recall-scope", params={"format": "xlsx"})
    assert refused.status_code == 422


def test_the_genealogy_page_draws_the_graph_with_the_recall_scope(chain) -> None:  # type: ignore[no-untyped-def]
    database, generated = chain
    answer = _first(generated)
    api = Api(app_for(database))
    login = browser_login(api.client, "qa")
    assert login.status_code == 303, login.text
    page = api.client.get("/data/genealogy", params={"id": f"{answer.product}/{answer.lot_number}"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "<svg" in html and 'class="node node-pallet"' in html
    heading = re.search(r'<h2 data-testid="genealogy-start">([^<]*)</h2>', html)
    assert heading is not None and answer.lot_number in heading.group(1)
    # the kind is said once ("Lot lot …" was the page's heading before)
    words = heading.group(1).lower().split()
    assert words[0] != words[1], heading.group(1)
    assert f"{len(answer.packs)} packs" in html
    assert "… " in html and " more</text>" in html  # the packs column is folded
    pallet = next(iter(answer.pallets))
    assert f"/data/genealogy?id={quote(pallet, safe='')}&amp;direction=both" in html
    bad = api.client.get("/data/genealogy", params={"id": "095060000000000016"})
    assert bad.status_code == 422
    assert "bad_check_digit" in bad.text
