"""The demo company's year, planned from a seeded random generator and written as the files
its systems would deliver: MES batch records (ISA-88), LabWare-style LIMS exports (semicolons,
decimal commas, local times) and openFDA adverse-event feeds. Pure: no database, so the same
seed gives the same files, and the benchmarks can ask for many more batches.

Realism where it matters to the checks downstream: process values scatter around their set
points, the old granulator PLC reports inlet air in °F for the first months, a few rows are
wrong in the ways real deliveries are (a unit nobody knows, a local time without its zone, a
lot number typed with the letter O), one tablet batch fails its assay and one vaccine batch's
potency is borderline."""

from __future__ import annotations

import csv
import io
import json
from calendar import monthrange
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any, Final
from zoneinfo import ZoneInfo

SITE_ZONE: Final = ZoneInfo("Europe/Amsterdam")
TABLET, VACCINE = "PARA500", "VAXFLU"
# Months (from the start of the year) in which the granulator still reported °F.
FAHRENHEIT_MONTHS: Final = 4


@dataclass(frozen=True)
class Reading:
    unit_procedure: str
    operation: str
    phase: str
    equipment: str
    parameter: str
    value: float
    unit: str
    at: datetime  # site-local, aware
    local_only: bool = False  # written without its offset: a row to be quarantined


@dataclass(frozen=True)
class Consumption:
    material_code: str
    material_lot: str
    quantity: float
    unit: str
    step: str
    at: datetime


@dataclass(frozen=True)
class Result:
    sample_id: str
    test_code: str
    value: float | None
    text: str | None
    unit: str
    spec_min: float | None
    spec_max: float | None
    spec_text: str | None
    at: datetime  # site-local
    lot_as_typed: str | None = None  # a typing error in the LIMS


@dataclass
class BatchPlan:
    product: str
    lot_number: str
    started: datetime  # site-local
    ended: datetime
    quantity: float
    unit: str
    expires_on: date
    readings: list[Reading] = field(default_factory=list)
    consumptions: list[Consumption] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    decision: str = "released"  # released | rejected | on_hold | pending


@dataclass(frozen=True)
class MaterialLotPlan:
    material_code: str
    lot_number: str
    supplier_code: str
    supplier_lot: str
    received: date
    quantity: float
    unit: str
    released: bool


# material → (supplier, our lot prefix, quantity received, unit, use per tablet/vaccine batch)
MATERIAL_SUPPLY: Final[dict[str, tuple[str, str, float, str, float]]] = {
    "API-PARA": ("SUP-HFA", "HFA", 1500.0, "kg", 125.0),
    "EXC-MCC": ("SUP-ROS", "ROS", 500.0, "kg", 38.5),
    "EXC-PVP": ("SUP-DEL", "DEL", 100.0, "kg", 6.3),
    "EXC-MGST": ("SUP-STE", "STE", 25.0, "kg", 1.3),
    "API-HA": ("SUP-BIO", "BIO", 60.0, "L", 4.0),
    "EXC-BUF": ("SUP-BUF", "BUF", 300.0, "L", 16.0),
    "PKG-PFS": ("SUP-SYR", "SYR", 500_000.0, "pcs", 40_000.0),
}
TABLET_MATERIALS: Final = ("API-PARA", "EXC-MCC", "EXC-PVP", "EXC-MGST")
VACCINE_MATERIALS: Final = ("API-HA", "EXC-BUF", "PKG-PFS")


def end_of_month(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SITE_ZONE)


def plan_material_lots(rng: Random, start: date, end: date) -> list[MaterialLotPlan]:
    """A receipt of each material every two months; the newest API lot is still in QC."""
    lots: list[MaterialLotPlan] = []
    for code, (supplier, prefix, quantity, unit, _use) in MATERIAL_SUPPLY.items():
        received = start - timedelta(days=20)
        number = 0
        while received <= end:
            number += 1
            lots.append(
                MaterialLotPlan(
                    code,
                    f"{prefix}-{received:%y%m}-{number:02d}",
                    supplier,
                    f"{rng.randint(100000, 999999)}",
                    received,
                    quantity,
                    unit,
                    released=True,
                )
            )
            received += timedelta(days=60)
    api = [lot for lot in lots if lot.material_code == "API-PARA"]
    newest = max(api, key=lambda lot: lot.received)
    lots[lots.index(newest)] = replace(newest, released=False)
    return lots


def _gauss(rng: Random, mean: float, sd: float, digits: int = 2) -> float:
    return round(rng.gauss(mean, sd), digits)


def _series(
    rng: Random,
    where: tuple[str, str, str, str],
    start: datetime,
    every: timedelta,
    count: int,
    parameters: tuple[tuple[str, float, float, str], ...],
) -> list[Reading]:
    found = []
    for i in range(count):
        at = start + i * every
        for name, mean, sd, unit in parameters:
            found.append(Reading(*where, name, _gauss(rng, mean, sd), unit, at))
    return found


def _in_use(lots: list[MaterialLotPlan], code: str, day: date) -> MaterialLotPlan:
    usable = [
        lot for lot in lots if lot.material_code == code and lot.released and lot.received <= day
    ]
    return max(usable, key=lambda lot: lot.received)


def tablet_batch(
    rng: Random, lot_number: str, day: date, month_index: int, materials: list[MaterialLotPlan]
) -> BatchPlan:
    t0 = local(day, 6)
    batch = BatchPlan(
        TABLET,
        lot_number,
        t0,
        local(day + timedelta(days=1), 16),
        float(rng.choice((248_000, 250_000, 250_000, 251_500))),
        "tablets",
        end_of_month(_add_months(day, 36)),
    )
    for code in TABLET_MATERIALS:
        use = MATERIAL_SUPPLY[code][4]
        lot = _in_use(materials, code, day)
        quantity, unit = round(use * rng.uniform(0.995, 1.005), 2), MATERIAL_SUPPLY[code][3]
        if code == "EXC-MGST":
            quantity, unit = round(quantity * 1000), "g"  # weighed on the small balance
        batch.consumptions.append(
            Consumption(code, lot.lot_number, quantity, unit, "Dispensing", t0)
        )
    fahrenheit = month_index < FAHRENHEIT_MONTHS
    inlet = (140.0, 2.7, "°F") if fahrenheit else (60.0, 1.5, "°C")
    granulation = ("Granulation", "Wet massing", "Spray", "GR-01")
    batch.readings += _series(
        rng,
        granulation,
        t0 + timedelta(hours=1),
        timedelta(minutes=10),
        6,
        (
            ("inlet_air_temperature", *inlet),
            ("product_temperature", 38.0, 1.0, "°C"),
            ("atomisation_pressure", 2.0, 0.08, "bar"),
            ("spray_rate", 120.0, 4.0, "g/min"),
        ),
    )
    batch.readings += _series(
        rng,
        ("Granulation", "Fluid bed drying", "Dry", "FBD-01"),
        t0 + timedelta(hours=3),
        timedelta(minutes=15),
        4,
        (("product_temperature", 45.0, 1.2, "°C"), ("outlet_air_temperature", 40.0, 1.0, "°C")),
    )
    batch.readings += _series(
        rng,
        ("Compression", "Main compression", "Compress", "TP-02"),
        local(day + timedelta(days=1), 8),
        timedelta(minutes=30),
        8,
        (
            ("compression_force", 12.0, 0.5, "kN"),
            ("tablet_weight", 560.0, 3.5, "mg"),
            ("tablet_hardness", 95.0, 5.0, "N"),
            ("turret_speed", 40.0, 0.3, "rpm"),
        ),
    )
    tested = local(day + timedelta(days=3), 10)
    sample = f"S-{lot_number}"
    batch.results = [
        Result(sample, "ASSAY", _gauss(rng, 99.8, 0.8, 1), None, "%", 95.0, 105.0, None, tested),
        Result(sample, "DISS30", _gauss(rng, 88.0, 3.0, 1), None, "%", 80.0, None, None, tested),
        Result(sample, "WATER", _gauss(rng, 1.8, 0.25, 2), None, "%", None, 3.0, None, tested),
        Result(sample, "UNIF", _gauss(rng, 4.0, 1.2, 1), None, "AV", None, 15.0, None, tested),
        Result(sample, "IDENT", None, "conforms", "", None, None, "conforms", tested),
    ]
    return batch


def vaccine_batch(
    rng: Random, lot_number: str, day: date, materials: list[MaterialLotPlan]
) -> BatchPlan:
    t0 = local(day, 6)
    batch = BatchPlan(
        VACCINE,
        lot_number,
        t0,
        local(day + timedelta(days=1), 18),
        float(rng.choice((39_600, 40_000, 40_000))),
        "syringes",
        end_of_month(_add_months(day, 12)),
    )
    for code in VACCINE_MATERIALS:
        lot = _in_use(materials, code, day)
        use, unit = MATERIAL_SUPPLY[code][4], MATERIAL_SUPPLY[code][3]
        quantity = round(use * rng.uniform(0.99, 1.01), 2) if unit != "pcs" else use
        step = "Filling" if code == "PKG-PFS" else "Formulation"
        batch.consumptions.append(Consumption(code, lot.lot_number, quantity, unit, step, t0))
    batch.readings += _series(
        rng,
        ("Formulation", "Blending", "Hold", "TK-201"),
        t0,
        timedelta(minutes=20),
        6,
        (("bulk_temperature", 5.0, 0.6, "°C"), ("ph", 7.2, 0.05, "pH")),
    )
    batch.readings += _series(
        rng,
        ("Formulation", "Sterile filtration", "Filter", "FLT-202"),
        t0 + timedelta(hours=3),
        timedelta(minutes=15),
        3,
        (("differential_pressure", 800.0, 40.0, "mbar"),),
    )
    batch.readings += _series(
        rng,
        ("Filling", "Syringe filling", "Fill", "FL-301"),
        local(day + timedelta(days=1), 7),
        timedelta(minutes=30),
        8,
        (("fill_volume", 0.5, 0.004, "mL"), ("room_temperature", 20.0, 0.5, "°C")),
    )
    tested = local(day + timedelta(days=9), 11)
    sample = f"S-{lot_number}"
    batch.results = [
        Result(
            sample,
            "POTENCY",
            _gauss(rng, 15.2, 0.5, 1),
            None,
            "µg HA/dose",
            13.5,
            None,
            None,
            tested,
        ),
        Result(sample, "PH", _gauss(rng, 7.2, 0.05, 2), None, "", 6.8, 7.6, None, tested),
        Result(
            sample, "ENDOTOXIN", _gauss(rng, 2.5, 0.8, 1), None, "EU/mL", None, 25.0, None, tested
        ),
        Result(sample, "STERILITY", None, "no growth", "", None, None, "no growth", tested),
    ]
    return batch


def plan_year(
    rng: Random, start: date, end: date, scale: float, materials: list[MaterialLotPlan]
) -> list[BatchPlan]:
    """Tablets weekly and the vaccine every fifteen days (times ``scale``), oldest first; the
    last batch of each product is still in QC."""
    plans: list[BatchPlan] = []
    for product, every in ((TABLET, 7.0), (VACCINE, 15.0)):
        step = timedelta(days=every / max(scale, 0.01))
        moment = datetime.combine(start, time(0), tzinfo=UTC)
        sequence: dict[int, int] = {}
        while moment.date() <= end - timedelta(days=10):
            day = moment.date()
            sequence[day.year] = sequence.get(day.year, 0) + 1
            months = (day.year - start.year) * 12 + day.month - start.month
            if product == TABLET:
                number = f"T{day:%y}-{sequence[day.year]:04d}"
                plans.append(tablet_batch(rng, number, day, months, materials))
            else:
                number = f"V{day:%y}-{sequence[day.year]:03d}"
                plans.append(vaccine_batch(rng, number, day, materials))
            moment += step
    plans.sort(key=lambda b: b.started)
    _decide(plans)
    return plans


def _decide(plans: list[BatchPlan]) -> None:
    tablets = [b for b in plans if b.product == TABLET]
    vaccines = [b for b in plans if b.product == VACCINE]
    for group in (tablets, vaccines):
        if group:
            group[-1].decision = "pending"
    if len(tablets) >= 3:
        failing = tablets[len(tablets) // 2]
        failing.decision = "rejected"
        failing.results[0] = replace(failing.results[0], value=93.1)
    if len(vaccines) >= 3:
        borderline = vaccines[len(vaccines) // 3]
        borderline.decision = "on_hold"
        borderline.results[0] = replace(borderline.results[0], value=13.6)


def month_of(moment: datetime) -> tuple[int, int]:
    return moment.year, moment.month


def _offset_iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


MES_COLUMNS: Final = (
    "record_type",
    "item_code",
    "lot_number",
    "quantity",
    "unit",
    "manufactured_on",
    "manufacturing_ended_at",
    "expires_on",
    "unit_procedure",
    "operation",
    "phase",
    "equipment",
    "parameter",
    "value",
    "measured_at",
    "material_code",
    "material_lot",
    "step",
    "consumed_at",
)


def mes_file(batches: list[BatchPlan], extra: list[dict[str, str]] | None = None) -> bytes:
    """One month of MES batch records as one mixed CSV (record_type per line)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, MES_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for b in batches:
        writer.writerow(
            {
                "record_type": "batch",
                "item_code": b.product,
                "lot_number": b.lot_number,
                "quantity": f"{b.quantity:g}",
                "unit": b.unit,
                "manufactured_on": b.started.date().isoformat(),
                "manufacturing_ended_at": _offset_iso(b.ended),
                "expires_on": b.expires_on.isoformat(),
            }
        )
        for c in b.consumptions:
            writer.writerow(
                {
                    "record_type": "material_consumption",
                    "item_code": b.product,
                    "lot_number": b.lot_number,
                    "quantity": f"{c.quantity:g}",
                    "unit": c.unit,
                    "material_code": c.material_code,
                    "material_lot": c.material_lot,
                    "step": c.step,
                    "consumed_at": _offset_iso(c.at),
                }
            )
        for r in b.readings:
            at = r.at.replace(tzinfo=None).isoformat(sep=" ") if r.local_only else _offset_iso(r.at)
            writer.writerow(
                {
                    "record_type": "process_reading",
                    "item_code": b.product,
                    "lot_number": b.lot_number,
                    "unit_procedure": r.unit_procedure,
                    "operation": r.operation,
                    "phase": r.phase,
                    "equipment": r.equipment,
                    "parameter": r.parameter,
                    "value": f"{r.value:g}",
                    "unit": r.unit,
                    "measured_at": at,
                }
            )
    for row in extra or []:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


LIMS_COLUMNS: Final = (
    "SAMPLE_NUMBER",
    "PRODUCT",
    "LOT",
    "ANALYSIS",
    "REPLICATE",
    "ENTRY",
    "TEXT_ENTRY",
    "UNITS",
    "MIN_LIMIT",
    "MAX_LIMIT",
    "TEXT_SPEC",
    "ENTERED_BY",
    "ENTERED_ON",
)
LIMS_MAPPING: Final[dict[str, Any]] = {
    "format": "csv",
    "delimiter": ";",
    "timezone": "Europe/Amsterdam",
    "columns": {
        "SAMPLE_NUMBER": "sample_id",
        "PRODUCT": "item_code",
        "LOT": "lot_number",
        "ANALYSIS": "test_code",
        "REPLICATE": "replicate",
        "ENTRY": "value",
        "TEXT_ENTRY": "text_value",
        "UNITS": "unit",
        "MIN_LIMIT": "spec_min",
        "MAX_LIMIT": "spec_max",
        "TEXT_SPEC": "spec_text",
        "ENTERED_BY": "analyst",
        "ENTERED_ON": "tested_at",
    },
}
MES_MAPPING: Final[dict[str, Any]] = {
    "parameters": {
        "spray_rate": "g/min",
        "tablet_weight": "mg",
        "tablet_hardness": "N",
        "turret_speed": "rpm",
        "fill_volume": "mL",
        "ph": "pH",
        "differential_pressure": "mbar",
    }
}


def _comma(value: float | None) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")


def lims_file(batches: list[BatchPlan], analysts: tuple[str, ...]) -> bytes:
    """A LabWare export: semicolons, decimal commas, local times without an offset."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(LIMS_COLUMNS)
    for b in batches:
        for index, r in enumerate(b.results):
            writer.writerow(
                (
                    r.sample_id,
                    b.product,
                    r.lot_as_typed or b.lot_number,
                    r.test_code,
                    1,
                    _comma(r.value),
                    r.text or "",
                    r.unit,
                    _comma(r.spec_min),
                    _comma(r.spec_max),
                    r.spec_text or "",
                    analysts[(index + len(b.lot_number)) % len(analysts)],
                    r.at.replace(tzinfo=None).isoformat(sep=" "),
                )
            )
    return out.getvalue().encode("utf-8")


PTS: Final[dict[str, tuple[tuple[str, bool], ...]]] = {
    TABLET: (
        ("Nausea", False),
        ("Rash", False),
        ("Abdominal pain upper", False),
        ("Pruritus", False),
        ("Drug ineffective", False),
        ("Hepatotoxicity", True),
        ("Anaphylactic reaction", True),
    ),
    VACCINE: (
        ("Injection site pain", False),
        ("Injection site erythema", False),
        ("Pyrexia", False),
        ("Headache", False),
        ("Myalgia", False),
        ("Febrile convulsion", True),
        ("Guillain-Barre syndrome", True),
    ),
}
REPORTED_NAMES: Final = {
    TABLET: ("PARACETAMOL 500 MG TABLETS", "PARACETAMOL", "Paracetamol 500mg"),
    VACCINE: ("FLUVAXIN", "FLUVAXIN QUADRIVALENT", "Influenza vaccine (Fluvaxin)"),
}
AUTHORISATIONS: Final = {TABLET: "RVG 12345", VACCINE: "EU/1/24/1842/001"}


def _as_written(rng: Random, lot_number: str) -> str:
    return rng.choice((lot_number, lot_number.lower(), f"Lot: {lot_number}", f"LOT {lot_number}"))


def _report(
    rng: Random, number: int, batch: BatchPlan | None, product: str, received: date
) -> dict[str, Any]:
    term, serious = rng.choice(PTS[product])
    if batch is not None and batch.product == VACCINE and rng.random() < 0.5:
        term, serious = "Injection site reaction", False  # the cluster a PV officer should see
    drug: dict[str, Any] = {
        "drugcharacterization": "1",
        "medicinalproduct": rng.choice(REPORTED_NAMES[product]),
        "drugadministrationroute": "048" if product == TABLET else "030",
    }
    if batch is not None:
        drug["drugbatchnumb"] = _as_written(rng, batch.lot_number)
    elif rng.random() < 0.5:
        drug["drugbatchnumb"] = f"{'T' if product == TABLET else 'V'}24-9{rng.randint(10, 99)}"
    if rng.random() < 0.6:
        drug["drugauthorizationnumb"] = AUTHORISATIONS[product]
    report: dict[str, Any] = {
        "safetyreportid": str(26_100_000 + number),
        "safetyreportversion": "1",
        "receivedate": received.strftime("%Y%m%d"),
        "receivedateformat": "102",
        "serious": "1" if serious else "2",
        "occurcountry": rng.choice(("NL", "NL", "DE", "BE", "FR")),
        "reporttype": "1",
        "primarysource": {"qualification": rng.choice(("1", "2", "3", "5"))},
        "patient": {
            "patientonsetage": str(rng.randint(2 if product == VACCINE else 18, 88)),
            "patientonsetageunit": "801",
            "patientsex": rng.choice(("1", "2")),
            "reaction": [{"reactionmeddrapt": term, "reactionoutcome": rng.choice("1126")}],
            "drug": [drug],
        },
    }
    if serious:
        life_threatening = term == "Anaphylactic reaction"
        flag = "seriousnesslifethreatening" if life_threatening else "seriousnesshospitalization"
        report[flag] = "1"
    return report


def faers_file(reports: list[dict[str, Any]], updated: date) -> bytes:
    document = {
        "meta": {
            "disclaimer": "Demo data generated by pharmaqms; not real adverse-event reports.",
            "last_updated": updated.isoformat(),
            "results": {"skip": 0, "limit": len(reports), "total": len(reports)},
        },
        "results": reports,
    }
    return json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8")


def plan_reports(
    rng: Random, batches: list[BatchPlan], scale: float, end: date
) -> list[tuple[date, dict[str, Any]]]:
    """Reports citing released batches (most), batches we never made, or no batch at all."""
    shipped = [b for b in batches if b.decision == "released"]
    found: list[tuple[date, dict[str, Any]]] = []
    for number in range(max(6, round(30 * scale))):
        batch = rng.choice(shipped)
        cites = rng.random()
        received = min(batch.ended.date() + timedelta(days=rng.randint(20, 200)), end)
        if cites < 0.7:
            report = _report(rng, number, batch, batch.product, received)
        else:
            report = _report(rng, number, None, batch.product, received)
        found.append((received, report))
    found.sort(key=lambda pair: pair[0])
    return found
