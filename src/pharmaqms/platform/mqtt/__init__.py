"""The MQTT ingest worker: a persistent QoS 1 subscription whose messages are stored in
batches through the one ingest pipeline and acknowledged to the broker only after commit.
The topic scheme and the payload are documented in docs/mqtt.md."""
