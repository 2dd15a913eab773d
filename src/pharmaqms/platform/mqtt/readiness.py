"""The broker's part of ``/readyz``: when an MQTT broker is configured (PHARMAQMS_MQTT_URL set
in the environment), it must accept a connection — TCP, and the TLS handshake with the
certificate checked for ``mqtts://``. Not a full MQTT session: the API processes hold no broker
credentials of their own; the ingest workers report their own connection in their log."""

from __future__ import annotations

import socket
import ssl

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.observability.health import register_readiness_check
from pharmaqms.kernel.settings import get_settings
from pharmaqms.platform.mqtt.settings import broker_from_url

TIMEOUT_S = 3.0


def broker_ready(_database: Database) -> str | None:
    settings = get_settings()
    if "mqtt_url" not in settings.model_fields_set:
        return None  # no broker configured: nothing to wait for
    broker = broker_from_url(settings.mqtt_url)
    try:
        with socket.create_connection((broker.host, broker.port), timeout=TIMEOUT_S) as raw:
            if broker.tls:
                context = ssl.create_default_context()
                with context.wrap_socket(raw, server_hostname=broker.host):
                    pass
    except OSError:
        return "broker unreachable"
    return None


register_readiness_check("mqtt_broker", broker_ready)
