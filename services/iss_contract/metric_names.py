"""The names of the metrics that more than one package reads: each service exports them, and
the dashboards, `iss-tracker status` and the chart's queries read them (as exposed, so a counter
ends in `_total`; a histogram adds `_bucket`, `_count` and `_sum`)."""

from __future__ import annotations

# The producer.
FETCHES = "iss_producer_fetches_total"
FETCH_DURATION = "iss_producer_fetch_duration_seconds"
PRODUCER_REJECTED = "iss_producer_rejected_total"
MESSAGES_PRODUCED = "iss_producer_messages_produced_total"
DELIVERY_FAILURES = "iss_producer_delivery_failures_total"
LAST_PUBLISH = "iss_producer_last_publish_timestamp_seconds"
CURRENT_SOURCE = "iss_producer_current_source"
TLE_AGE = "iss_producer_tle_age_seconds"

# The enricher.
RECORDS_IN = "iss_enricher_records_in_total"
RECORDS_OUT = "iss_enricher_records_out_total"
RECORDS_REJECTED = "iss_enricher_records_rejected_total"
BATCH_WRITE = "iss_enricher_batch_write_seconds"
END_TO_END_LATENCY = "iss_enricher_end_to_end_latency_seconds"
LAST_COMMITTED = "iss_enricher_last_committed_event_timestamp_seconds"
CONSUMER_LAG = "iss_enricher_consumer_lag_messages"

# The operator.
CHECKS = "iss_operator_checks_total"
RESTARTS = "iss_operator_restarts_total"
DECISION_SECONDS = "iss_operator_decision_seconds"
