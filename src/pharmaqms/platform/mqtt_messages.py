"""The topic scheme, the payload, and the envelope a batch of messages travels in to the
ingest pipeline.

Topic: ``pharmaqms/<site>/<location-or-shipment>/<sensor>/reading``; payload: a JSON object
``{"ts": "2026-03-01T08:15:00+01:00", "temperature": 5.2, "unit": "C", "humidity": 41.0}``.

A batch is delivered to ``ingest`` as JSON Lines, one ``{"topic", "payload"}`` object per
message in the order received, so the import run's hash covers exactly what the broker
delivered. A message that can't be read becomes a malformed row carrying its topic and raw
payload, which governance quarantines with the specific reason.

The wire format on its own, below both of its users: the MQTT worker (``platform.mqtt``)
writes batches in it and stores them through the sensors connector, which reads them
(``platform.connectors.sensors``). It imports neither."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pharmaqms.kernel.errors import DocumentRefused

ROOT = "pharmaqms"
LEAF = "reading"
SCHEME = f"{ROOT}/<site>/<location-or-shipment>/<sensor>/{LEAF}"
DEFAULT_FILTER = f"{ROOT}/+/+/+/{LEAF}"
# Payload fields and the entity fields they fill; anything else is reported as unknown.
PAYLOAD_FIELDS = {
    "ts": "measured_at",
    "temperature": "temperature",
    "unit": "unit",
    "humidity": "humidity",
    "humidity_unit": "humidity_unit",
    # Optional: the device's running number of the reading; a gap is a reading lost on the way.
    "seq": "seq",
}
# A sensor reading is ~100 bytes; a bigger payload is a misconfigured device, and keeping it
# whole in the quarantine would let one device fill the database.
MAX_PAYLOAD_BYTES = 16 * 1024
# The mapping of a data source whose deliveries are batches in this envelope: the sensors
# connector reads such a source's content with decode_batch.
MQTT_MAPPING = {"format": "mqtt"}


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    # Set by the worker for a message that broke the pipeline: it is then quarantined with
    # this reason instead of being read again (one bad message must not block the stream).
    failure: str | None = None


def encode_batch(messages: Iterable[Message]) -> bytes:
    lines = []
    for message in messages:
        try:
            entry: dict[str, str] = {
                "topic": message.topic,
                "payload": message.payload.decode("utf-8"),
            }
        except UnicodeDecodeError:
            entry = {
                "topic": message.topic,
                "payload_base64": base64.b64encode(message.payload).decode("ascii"),
            }
        if message.failure:
            entry["failure"] = message.failure
        lines.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines).encode("utf-8")


def decode_batch(content: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """(position, row values) for each message of a batch."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentRefused("an MQTT batch must be UTF-8 JSON Lines") from None
    # Split on "\n" only: the envelope escapes it inside strings, while splitlines() would also
    # cut at U+2028 or U+0085, which a payload may hold as they are.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            topic = entry["topic"]
        except (json.JSONDecodeError, KeyError, TypeError):
            # The worker writes these lines; one it can't read means the batch is not ours.
            raise DocumentRefused(f"line {number} is not an MQTT message envelope") from None
        yield f"message {number}", reading_values(str(topic), entry)


def _malformed(reason: str, topic: str, payload: str) -> dict[str, Any]:
    return {"__malformed__": reason, "topic": topic, "payload": payload}


def reading_values(topic: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The row of one message: sensor, site and place from the topic, the rest from the
    payload, named as the ``sensor_reading`` entity names them (so a quarantined row can be
    corrected and replayed)."""
    if "failure" in entry:
        raw = str(entry.get("payload", entry.get("payload_base64", "")))
        return _malformed(f"the message broke the ingest: {entry['failure']}", topic, raw)
    if "payload_base64" in entry:
        raw = str(entry["payload_base64"])
        return _malformed("the payload is not UTF-8 text (kept as base64)", topic, raw)
    payload = str(entry.get("payload", ""))
    if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        return _malformed(
            f"the payload is larger than {MAX_PAYLOAD_BYTES} bytes (first 1,000 kept)",
            topic,
            payload[:1000],
        )
    levels = topic.split("/")
    if len(levels) != 5 or levels[0] != ROOT or levels[4] != LEAF or not all(levels):
        return _malformed(f"the topic is not {SCHEME}", topic, payload)
    try:
        document = json.loads(payload)
    except json.JSONDecodeError as err:
        return _malformed(
            f"the payload is not JSON ({err.msg} at column {err.colno})", topic, payload
        )
    if not isinstance(document, dict):
        kind = type(document).__name__
        return _malformed(f"the payload is a JSON {kind}, not an object", topic, payload)
    values: dict[str, Any] = {"site": levels[1], "place": levels[2], "sensor": levels[3]}
    for key, value in document.items():
        # An unknown key keeps its name (prefixed if it would shadow a topic level) so that
        # governance names it; a silent drop would lose what the device said.
        name = PAYLOAD_FIELDS.get(str(key), str(key))
        values[f"payload.{key}" if name in values else name] = value
    return values
