"""The topic scheme, the payload and the batch envelope, without a broker."""

from __future__ import annotations

import pytest

from pharmaqms.kernel.errors import DocumentRefused, InvalidInput
from pharmaqms.platform.mqtt.settings import MqttSettings, broker_from_url
from pharmaqms.platform.mqtt_messages import Message, decode_batch, encode_batch

TOPIC = "pharmaqms/LEI/CR-1/T-100/reading"


def _values(topic: str, payload: bytes) -> dict[str, object]:
    [(_position, values)] = list(decode_batch(encode_batch([Message(topic, payload)])))
    return values


def test_a_reading_takes_sensor_site_and_place_from_the_topic_and_values_from_the_payload() -> None:
    payload = (
        b'{"ts": "2026-03-01T08:15:00+01:00", "temperature": 5.2, "unit": "C", "humidity": 41}'
    )
    assert _values(TOPIC, payload) == {
        "site": "LEI",
        "place": "CR-1",
        "sensor": "T-100",
        "measured_at": "2026-03-01T08:15:00+01:00",
        "temperature": 5.2,
        "unit": "C",
        "humidity": 41,
    }


def test_payload_keys_outside_the_scheme_are_kept_under_their_name_for_governance_to_name() -> None:
    payload = b'{"ts": "2026-03-01T08:15:00Z", "temperature": 5, "sensor": "T-999", "rssi": -70}'
    values = _values(TOPIC, payload)
    assert values["sensor"] == "T-100"
    assert (values["payload.sensor"], values["rssi"]) == ("T-999", -70)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("pharmaqms/LEI/CR-1/T-100", b"{}", "the topic is not pharmaqms/<site>/"),
        ("pharmaqms/LEI//T-100/reading", b"{}", "the topic is not pharmaqms/<site>/"),
        ("other/LEI/CR-1/T-100/reading", b"{}", "the topic is not pharmaqms/<site>/"),
        (TOPIC, b"5.2", "the payload is a JSON float, not an object"),
        (TOPIC, b'{"ts": ', "the payload is not JSON (Expecting value at column 8)"),
        (TOPIC, b"\xc3\x28", "the payload is not UTF-8 text (kept as base64)"),
        (TOPIC, b'{"x": "' + b"a" * 20_000 + b'"}', "the payload is larger than 16384 bytes"),
    ],
)
def test_a_message_that_cannot_be_read_is_a_malformed_row_with_its_topic_and_payload(
    topic: str, payload: bytes, reason: str
) -> None:
    values = _values(topic, payload)
    assert str(values["__malformed__"]).startswith(reason)
    assert values["topic"] == topic
    assert isinstance(values["payload"], str) and values["payload"]


def test_the_envelope_keeps_every_message_in_order_and_refuses_what_it_did_not_write() -> None:
    messages = [Message(TOPIC, b'{"ts": "2026-03-01T08:15:00Z"}'), Message(TOPIC, b"x\ny")]
    decoded = list(decode_batch(encode_batch(messages)))
    assert [position for position, _ in decoded] == ["message 1", "message 2"]
    assert decoded[1][1]["payload"] == "x\ny"
    with pytest.raises(DocumentRefused, match="line 1 is not an MQTT message envelope"):
        list(decode_batch(b"sensor,ts\nT-1,2026"))


def test_settings_build_the_shared_subscription_and_keep_a_batch_in_flight() -> None:
    plain = MqttSettings(client_id="w1", batch_size=500)
    assert (plain.subscription, plain.in_flight) == ("pharmaqms/+/+/+/reading", 1000)
    shared = MqttSettings(
        client_id="w2", share_group="pharmaqms", batch_size=100, receive_maximum=10
    )
    assert (shared.subscription, shared.in_flight) == (
        "$share/pharmaqms/pharmaqms/+/+/+/reading",
        100,
    )
    with pytest.raises(ValueError, match="SHARE_GROUP"):
        MqttSettings(topic="$share/g/pharmaqms/#")


def test_the_broker_url_names_host_port_tls_and_credentials() -> None:
    broker = broker_from_url("mqtts://ingest:s%40cret@mqtt.example.org")
    assert (broker.host, broker.port, broker.tls, broker.username, broker.password) == (
        "mqtt.example.org",
        8883,
        True,
        "ingest",
        "s@cret",
    )
    assert str(broker_from_url("mqtt://127.0.0.1")) == "mqtt://127.0.0.1:1883"
    with pytest.raises(InvalidInput, match="is not mqtt://"):
        broker_from_url("http://127.0.0.1:1883")
