"""Sensor master data: registration, calibration, and which products a location holds.
Each change audited; calibration changes name their reason (the certificate)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.masterdata.models import Location, Product
from pharmaqms.platform.sensors.models import StorageAssignment
from pharmaqms.platform.timeseries.models import Sensor
from pharmaqms.platform.traceability.models import Shipment

SENSOR_KINDS = ("temperature", "temperature_humidity", "data_logger")


def calibration_valid(calibrated_on: date | None, due_on: date | None, on: date) -> bool:
    """Whether the calibration on record covers a reading taken on ``on`` (the device's local
    date). A reading before the recorded calibration is not covered either: the earlier
    calibration is not on record, so the reading is flagged for review, not assumed good."""
    if due_on is None:
        return False
    if calibrated_on is not None and on < calibrated_on:
        return False
    return on <= due_on


def _check_calibration(calibrated_on: date | None, due_on: date | None) -> None:
    if calibrated_on and due_on and due_on < calibrated_on:
        raise InvalidInput(
            f"the calibration is due ({due_on}) before it was made ({calibrated_on})",
            field="calibration_due_on",
        )


def _place(
    session: Session, location_code: str | None, shipment_code: str | None
) -> tuple[int | None, int | None]:
    location_id = shipment_id = None
    if location_code:
        location_id = session.scalar(select(Location.id).where(Location.code == location_code))
        if location_id is None:
            raise InvalidInput(f"no location {location_code}", field="location_code")
    if shipment_code:
        shipment_id = session.scalar(select(Shipment.id).where(Shipment.code == shipment_code))
        if shipment_id is None:
            raise InvalidInput(f"no shipment {shipment_code}", field="shipment_code")
    return location_id, shipment_id


def register_sensor(
    session: Session,
    *,
    actor: Actor,
    code: str,
    kind: str = "temperature",
    site: str = "",
    location_code: str | None = None,
    shipment_code: str | None = None,
    calibrated_on: date | None = None,
    calibration_due_on: date | None = None,
    certificate: str | None = None,
) -> Sensor:
    actor.require("data.manage", "register sensors")
    code = code.strip()
    if not code or len(code) > 60 or "/" in code or "+" in code or "#" in code:
        # The code is a level of the MQTT topic: no separators or wildcards in it.
        raise InvalidInput("a sensor code is 1 to 60 characters without / + #", field="code")
    if kind not in SENSOR_KINDS:
        raise InvalidInput(f"unknown sensor kind {kind!r}", field="kind")
    if session.scalar(select(Sensor.id).where(Sensor.code == code)) is not None:
        raise Conflict(f"a sensor {code} exists already", field="code")
    _check_calibration(calibrated_on, calibration_due_on)
    location_id, shipment_id = _place(session, location_code, shipment_code)
    sensor = Sensor(
        code=code,
        kind=kind,
        site=site.strip(),
        location_id=location_id,
        shipment_id=shipment_id,
        calibrated_on=calibrated_on,
        calibration_due_on=calibration_due_on,
        certificate=certificate,
    )
    with audit.changes(session, actor=actor, reason="sensor registered"):
        session.add(sensor)
    return sensor


def get_sensor(session: Session, code: str) -> Sensor:
    sensor = session.scalars(select(Sensor).where(Sensor.code == code)).one_or_none()
    if sensor is None:
        raise NotFound(f"no sensor {code}")
    return sensor


def record_calibration(
    session: Session,
    *,
    actor: Actor,
    code: str,
    calibrated_on: date,
    calibration_due_on: date,
    certificate: str,
) -> Sensor:
    """A new calibration of a sensor; the certificate is the reason recorded in the trail."""
    actor.require("data.manage", "record sensor calibrations")
    if not certificate.strip():
        raise InvalidInput("name the calibration certificate", field="certificate")
    _check_calibration(calibrated_on, calibration_due_on)
    sensor = get_sensor(session, code)
    with audit.changes(session, actor=actor, reason=f"calibration certificate {certificate}"):
        sensor.calibrated_on = calibrated_on
        sensor.calibration_due_on = calibration_due_on
        sensor.certificate = certificate.strip()
    return sensor


def set_storage_range(
    session: Session,
    *,
    actor: Actor,
    product_code: str,
    storage_min_c: float | None,
    storage_max_c: float | None,
    reason: str,
) -> Product:
    """The labelled storage range of a product (e.g. 2–8 °C): what readings where it is
    stored are judged against. A change of a labelled condition names its reason."""
    actor.require("data.manage", "set storage conditions")
    if not reason.strip():
        raise InvalidInput("say why the storage range changes", field="reason")
    if storage_min_c is not None and storage_max_c is not None and storage_min_c > storage_max_c:
        raise InvalidInput(
            f"the range {storage_min_c}–{storage_max_c} °C is upside down", field="storage_min_c"
        )
    product = session.scalars(select(Product).where(Product.code == product_code)).first()
    if product is None:
        raise NotFound(f"no product {product_code}")
    with audit.changes(session, actor=actor, reason=reason):
        product.storage_min_c = storage_min_c
        product.storage_max_c = storage_max_c
    return product


def assign_storage(
    session: Session, *, actor: Actor, location_code: str, product_code: str
) -> StorageAssignment:
    """The location holds this product from now on: its readings are judged against the
    product's storage range as well."""
    actor.require("data.manage", "assign storage locations")
    location = session.scalars(select(Location).where(Location.code == location_code)).first()
    if location is None:
        raise InvalidInput(f"no location {location_code}", field="location_code")
    product = session.scalars(select(Product).where(Product.code == product_code)).first()
    if product is None:
        raise InvalidInput(f"no product {product_code}", field="product_code")
    existing = session.scalars(
        select(StorageAssignment).where(
            StorageAssignment.location_id == location.id,
            StorageAssignment.product_id == product.id,
        )
    ).first()
    if existing is not None:
        if existing.active:
            raise Conflict(f"{location_code} holds {product_code} already")
        with audit.changes(session, actor=actor, reason=f"{location_code} holds {product_code}"):
            existing.active = True
        return existing
    assignment = StorageAssignment(location_id=location.id, product_id=product.id, active=True)
    with audit.changes(session, actor=actor, reason=f"{location_code} holds {product_code}"):
        session.add(assignment)
    return assignment


def end_storage(
    session: Session, *, actor: Actor, location_code: str, product_code: str, reason: str
) -> StorageAssignment:
    actor.require("data.manage", "assign storage locations")
    if not reason.strip():
        raise InvalidInput("say why the location no longer holds the product", field="reason")
    assignment = session.scalars(
        select(StorageAssignment)
        .join(Location, Location.id == StorageAssignment.location_id)
        .join(Product, Product.id == StorageAssignment.product_id)
        .where(Location.code == location_code, Product.code == product_code)
    ).first()
    if assignment is None or not assignment.active:
        raise NotFound(f"{location_code} does not hold {product_code}")
    with audit.changes(session, actor=actor, reason=reason):
        assignment.active = False
    return assignment
