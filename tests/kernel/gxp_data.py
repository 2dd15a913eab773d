"""Rows in every kind of sealed GxP data table, written through the connectors: what the
data-tamper tests change, remove and slip in behind the application's back."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.conftest import People
from tests.platform.company import sample, set_up_company
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest

LIMS_CSV = b"""item_code,lot_number,sample_id,test_code,test_name,value,unit,spec_min,spec_max,\
analyst,tested_at
PARA500,T26-0101,S-1001,ASSAY,Assay (HPLC),99.2,%,95,105,chen,2026-02-12T09:30:00+01:00
PARA500,T26-0101,S-1001,DISS,Dissolution 30 min,84.5,%,80,,chen,2026-02-12T11:00:00+01:00
"""
ROOM_JSON = b"""{"readings": [
 {"sensor": "T-100", "measured_at": "2026-03-01T08:00:00+01:00", "temperature": 5.1,
  "unit": "C", "humidity": 41},
 {"sensor": "T-100", "measured_at": "2026-03-01T08:15:00+01:00", "temperature": 9.4,
  "unit": "C", "humidity": 41}
]}"""
GTIN = "08712345000011"


def _epcis_commissioning() -> bytes:
    return json.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-02-12T10:00:00Z",
            "epcisBody": {
                "eventList": [
                    {
                        "type": "ObjectEvent",
                        "eventTime": "2026-02-12T08:00:00+01:00",
                        "eventTimeZoneOffset": "+01:00",
                        "action": "ADD",
                        "bizStep": "commissioning",
                        "disposition": "active",
                        "epcList": [
                            f"https://id.gs1.org/01/{GTIN}/21/SN000017",
                            f"https://id.gs1.org/01/{GTIN}/21/SN000018",
                        ],
                        "ilmd": {
                            "cbvmda:lotNumber": "T26-0101",
                            "cbvmda:itemExpirationDate": "2029-01-31",
                        },
                    }
                ]
            },
        }
    ).encode()


@dataclass(frozen=True)
class Delivered:
    """Which tables the deliveries filled (each must hold rows for the tests to mean much)."""

    tables: tuple[str, ...] = (
        "process_readings",
        "test_results",
        "sensor_readings",
        "excursion_candidates",
        "adverse_event_reports",
        "epcis_events",
        "epcis_event_objects",
        "serialised_packs",
        "gs1_scans",
        "material_consumptions",
        "data_lineage",
    )


def deliver_every_kind(db: Database, people: People) -> Delivered:
    set_up_company(db, people)
    cold_chain(db, people.admin)
    deliveries = (
        (people.supervisor, "mes", sample("mes_batch_records.csv"), "mes.csv"),
        (people.qc, "lims", LIMS_CSV, "lims.csv"),
        (people.logistics, "sensors", ROOM_JSON, "room.json"),
        (people.pv, "faers", sample("faers_drug_events.json"), "faers.json"),
        (people.logistics, "epcis", _epcis_commissioning(), "epcis.json"),
        (people.logistics, "gs1", sample("gs1_scans.txt"), "scans.txt"),
    )
    for actor, kind, content, filename in deliveries:
        with unit_of_work(db) as s:
            ingest.ingest(s, actor=actor, kind=kind, content=content, filename=filename)
    return Delivered()
