"""Readings that never arrived become a data-loss finding: a deviation raised through the
quality-events API from the sensor-sequence gap (platform.sensors.sequence), once per gap.

Lost readings of a monitored storage place are a data-integrity matter (ALCOA+ "complete"):
whether product was exposed while nobody could see the temperature is for QA to judge, so the
deviation names the sensor, the missing numbers and the time window they fall in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.sensors.sequence import LostReadings, add_gap_listener
from pharmaqms.quality import events

SOURCE_TYPE = "sensor_sequence_gap"
AREA = "Data integrity"


def raise_data_loss(session: Session, actor: Actor, lost: LostReadings) -> str:
    now = clock.now()
    window = (
        f"between the reading at {lost.after_measured_at:%Y-%m-%d %H:%M:%S} UTC and the one at "
        f"{lost.before_measured_at:%Y-%m-%d %H:%M:%S} UTC (device times)"
    )
    deviation = events.raise_deviation(
        session,
        actor=actor,
        source_type=SOURCE_TYPE,
        source_id=lost.gap_id,
        source_label=f"sensor {lost.sensor_code} {lost.numbers}",
        title=f"Data loss: sensor {lost.sensor_code} {lost.numbers} never arrived",
        description=(
            f"Sensor {lost.sensor_code} numbers its readings. {lost.count} numbered "
            f"reading(s) ({lost.numbers.split(' ', 1)[1]}) never reached pharmaqms: {window}. "
            "The broker may have dropped them (a full queue or a crash), or the device did not "
            f"send them. Found on {lost.detected_at:%Y-%m-%d %H:%M:%S} UTC by the MQTT ingest; "
            "none arrived late before this report."
        ),
        area=AREA,
        # The loss happened after the last reading that arrived; not later than now.
        occurred_at=min(lost.after_measured_at, now),
        discovered_at=now,
    )
    return deviation.audit_label()


add_gap_listener(raise_data_loss)
