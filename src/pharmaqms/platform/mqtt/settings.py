"""The worker's settings (PHARMAQMS_MQTT_…) and the broker address.

The broker URL is the kernel's ``PHARMAQMS_MQTT_URL`` (``mqtt://host:1883``, ``mqtts://`` for
TLS, credentials as ``mqtt://user:password@host``); the knobs only the ingest worker has live
here, so the kernel's settings stay free of one consumer's tuning."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.platform.mqtt_messages import DEFAULT_FILTER

MAX_RECEIVE = 65_535  # MQTT v5 Receive Maximum is a two-byte integer


def _default_client_id() -> str:
    # Stable across restarts (the persistent session is found again by it), distinct per host.
    return f"pharmaqms-ingest-{socket.gethostname()}"[:64]


class MqttSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PHARMAQMS_MQTT_", extra="ignore")

    topic: str = DEFAULT_FILTER
    # Set to a group name (e.g. "pharmaqms") to subscribe as $share/<group>/<topic>: several
    # workers, each with its own client id, then split one stream.
    share_group: str | None = None
    client_id: str = Field(default_factory=_default_client_id)
    # How long the broker keeps the session (and queues readings) while no worker is up.
    session_expiry_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    batch_size: int = Field(default=500, ge=1, le=20_000)
    batch_ms: int = Field(default=200, ge=1, le=60_000)
    # Unacknowledged messages the broker may have in flight to us; 0 means 2 × batch_size so
    # the next batch fills while the current one commits.
    receive_maximum: int = Field(default=0, ge=0, le=MAX_RECEIVE)
    keepalive_seconds: int = Field(default=30, ge=5)
    # A gap in a sensor's reading numbers is reported as data loss once it has stayed open this
    # long: late arrivals (a shared subscription, a worker restarting) fill it meanwhile.
    sequence_grace_seconds: int = Field(default=300, ge=0)
    source: str = "sensors-mqtt"

    @model_validator(mode="after")
    def _filter_is_subscribable(self) -> MqttSettings:
        if not self.topic or self.topic.startswith("$share/"):
            raise ValueError(
                "PHARMAQMS_MQTT_TOPIC is the plain topic filter; use "
                "PHARMAQMS_MQTT_SHARE_GROUP for a shared subscription"
            )
        if self.share_group is not None and (
            not self.share_group or any(c in self.share_group for c in "/+#")
        ):
            raise ValueError("PHARMAQMS_MQTT_SHARE_GROUP is a name without / + #")
        return self

    @property
    def subscription(self) -> str:
        if self.share_group:
            return f"$share/{self.share_group}/{self.topic}"
        return self.topic

    @property
    def in_flight(self) -> int:
        wanted = self.receive_maximum or 2 * self.batch_size
        # Fewer in flight than a batch would make every batch wait for its deadline.
        return min(MAX_RECEIVE, max(wanted, self.batch_size))


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def broker_from_url(url: str) -> Broker:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise InvalidInput(
            f"PHARMAQMS_MQTT_URL {url!r} is not mqtt://host:port or mqtts://host:port",
            field="mqtt_url",
        )
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise InvalidInput(f"PHARMAQMS_MQTT_URL {url!r} has a bad port", field="mqtt_url") from None
    if not parts.hostname:
        raise InvalidInput(f"PHARMAQMS_MQTT_URL {url!r} names no host", field="mqtt_url")
    return Broker(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )
