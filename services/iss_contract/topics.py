"""Default topic names (each is configurable per component)."""

RAW_TOPIC = "iss.positions.raw"
ENRICHED_TOPIC = "iss.positions.enriched"
DEADLETTER_TOPIC = "iss.positions.deadletter"
