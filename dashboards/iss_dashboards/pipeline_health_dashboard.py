"""The "Pipeline health" dashboard: lag, throughput, latency, errors and operator actions.

Metric names are those of docs/contracts.md, plus ``kafka_consumergroup_lag`` from Strimzi's
kafka-exporter and the ``ALERTS`` series Prometheus keeps for the chart's alerting rules.
"""

from __future__ import annotations

from grafanalib import core

from iss_contract.metric_names import (
    BATCH_WRITE,
    CHECKS,
    CONSUMER_LAG,
    CURRENT_SOURCE,
    DECISION_SECONDS,
    DELIVERY_FAILURES,
    END_TO_END_LATENCY,
    FETCH_DURATION,
    FETCHES,
    LAST_COMMITTED,
    LAST_PUBLISH,
    MESSAGES_PRODUCED,
    PRODUCER_REJECTED,
    RECORDS_IN,
    RECORDS_OUT,
    RECORDS_REJECTED,
    RESTARTS,
    TLE_AGE,
)
from iss_dashboards import defaults as d

OUTPUT = "pipeline-health.json"
UID = "iss-pipeline-health"

RATE = "$__rate_interval"
RANGE = "$__range"

STORED_FRESHNESS = f"time() - max({LAST_COMMITTED})"
RAW_FRESHNESS = f"time() - max({LAST_PUBLISH})"

KAFKA_EXPORTER_ABSENT = (
    "No kafka-exporter series: external or managed Kafka, or the exporter is off. "
    "The enricher's own lag is in the next panel."
)

# The chart's alerts (templates/_alerts.tpl) are all named Iss...: 1 while one fires, 0 once it
# fired in the dashboard's range and resolved.
_FIRING = 'ALERTS{alertname=~"Iss.+", alertstate="firing"}'
ALERTS_PANEL_EXPR = (
    f"max by (alertname, namespace) ({_FIRING})\n"
    f"or max by (alertname, namespace) (0 * last_over_time({_FIRING}[{RANGE}]))"
)


def _quantiles(histogram: str, by: str = "") -> list[core.Target]:
    group = f"le, {by}" if by else "le"
    prefix = f"{{{{{by}}}}} " if by else ""
    return [
        d.promql(
            f"histogram_quantile({quantile}, sum by ({group}) (rate({histogram}_bucket[{RATE}])))",
            f"{prefix}p{round(quantile * 100)}",
            ref_id=ref,
        )
        for quantile, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))
    ]


def overview_panels() -> list[core.Panel]:
    return [
        d.stat(
            "Stored data freshness",
            "Seconds since the event time of the newest row the enricher committed: the signal "
            f"the operator acts on. Red from {d.FRESHNESS_THRESHOLD_SECONDS:g} s.",
            d.promql(STORED_FRESHNESS, "stored", instant=True),
            d.grid(0, 0, 6, 4),
            unit="s",
            decimals=1,
            steps=d.FRESHNESS_STEPS,
            color_mode="background",
        ),
        d.stat(
            "Raw input freshness",
            "Seconds since the producer's last acknowledged message to Kafka. Red from "
            f"{d.FRESHNESS_THRESHOLD_SECONDS:g} s.",
            d.promql(RAW_FRESHNESS, "raw", instant=True),
            d.grid(6, 0, 6, 4),
            unit="s",
            decimals=1,
            steps=d.FRESHNESS_STEPS,
            color_mode="background",
        ),
        d.stat(
            "Rows stored per second",
            "Records the enricher wrote, per second (about 1 for one satellite at 1 Hz).",
            d.promql(f"sum(rate({RECORDS_OUT}[{RATE}]))", "stored"),
            d.grid(12, 0, 6, 4),
            unit="ops",
            decimals=2,
        ),
        d.stat(
            "Operator restarts in range",
            "Restarts the operator made in the dashboard's time range, all components.",
            d.promql(f"sum(increase({RESTARTS}[{RANGE}]))", "restarts"),
            d.grid(18, 0, 6, 4),
            decimals=0,
            steps=d.threshold_steps(("green", None), ("orange", 1)),
        ),
    ]


def dataflow_panels() -> list[core.Panel]:
    return [
        d.timeseries(
            "Consumer lag (kafka-exporter)",
            "Messages behind the end of each partition per consumer group, from Strimzi's "
            "kafka-exporter (kafka_consumergroup_lag). It sees only groups that commit offsets, "
            "and exists only where the chart deploys Strimzi with kafka.exporter.enabled.",
            [
                d.promql(
                    "sum by (consumergroup, topic, partition) (kafka_consumergroup_lag)",
                    "{{consumergroup}} {{topic}}/{{partition}}",
                )
            ],
            d.grid(0, 4, 6, 8),
            unit="short",
            legend_calcs=["lastNotNull", "max"],
            no_value=KAFKA_EXPORTER_ABSENT,
        ),
        d.timeseries(
            "Enricher consumer lag",
            "Messages behind the end of each partition as the enricher measures it itself "
            "(librdkafka statistics): works with any Kafka, with or without kafka-exporter.",
            [
                d.promql(
                    f"max by (topic, partition) ({CONSUMER_LAG})",
                    "enricher {{topic}}/{{partition}}",
                )
            ],
            d.grid(6, 4, 6, 8),
            unit="short",
            legend_calcs=["lastNotNull", "max"],
        ),
        d.timeseries(
            "Messages per second at each stage",
            "Produced to Kafka, read by the enricher, stored in the database, and sent to dead "
            "letters. In a healthy pipeline the first three lines coincide.",
            [
                d.promql(
                    f"sum(rate({MESSAGES_PRODUCED}[{RATE}]))",
                    "produced",
                    ref_id="A",
                ),
                d.promql(
                    f"sum(rate({RECORDS_IN}[{RATE}]))",
                    "enricher in",
                    ref_id="B",
                ),
                d.promql(
                    f"sum(rate({RECORDS_OUT}[{RATE}]))",
                    "stored",
                    ref_id="C",
                ),
                d.promql(
                    f"sum(rate({RECORDS_REJECTED}[{RATE}]))",
                    "dead letters",
                    ref_id="D",
                ),
            ],
            d.grid(12, 4, 12, 8),
            unit="ops",
            legend_calcs=["mean", "lastNotNull"],
        ),
        d.timeseries(
            "End-to-end latency",
            "From a position's event time to its row committed in the database: 50th, 95th and "
            "99th percentiles.",
            _quantiles(END_TO_END_LATENCY),
            d.grid(0, 12, 12, 8),
            unit="s",
            legend_calcs=["mean", "max"],
        ),
        d.timeseries(
            "Database write latency",
            "Time to write one batch of rows (COPY and upsert): 50th, 95th and 99th percentiles.",
            _quantiles(BATCH_WRITE),
            d.grid(12, 12, 12, 8),
            unit="s",
            legend_calcs=["mean", "max"],
        ),
    ]


def error_panels() -> list[core.Panel]:
    return [
        d.timeseries(
            "Dead letters by reason",
            "Input the enricher rejected to the dead-letter topic, and answers the producer "
            "rejected from its sources, per second by reason.",
            [
                d.promql(
                    f"sum by (reason) (rate({RECORDS_REJECTED}[{RATE}]))",
                    "enricher: {{reason}}",
                    ref_id="A",
                ),
                d.promql(
                    f"sum by (source, reason) (rate({PRODUCER_REJECTED}[{RATE}]))",
                    "producer {{source}}: {{reason}}",
                    ref_id="B",
                ),
            ],
            d.grid(0, 20, 12, 8),
            unit="ops",
            legend_calcs=["mean", "max"],
        ),
        d.timeseries(
            "Producer fetches and failures",
            "Fetches from each source by outcome, and messages Kafka failed to acknowledge.",
            [
                d.promql(
                    f"sum by (source, outcome) (rate({FETCHES}[{RATE}]))",
                    "{{source}} {{outcome}}",
                    ref_id="A",
                ),
                d.promql(
                    f"sum(rate({DELIVERY_FAILURES}[{RATE}]))",
                    "delivery failures",
                    ref_id="B",
                ),
            ],
            d.grid(12, 20, 12, 8),
            unit="ops",
            legend_calcs=["mean", "max"],
        ),
    ]


def producer_panels() -> list[core.Panel]:
    return [
        d.timeseries(
            "Producer source",
            "The source the producer uses now (1) and the others (0). It falls back from "
            "wheretheiss to open-notify to SGP4 propagation when a source fails.",
            [d.promql(f"max by (source) ({CURRENT_SOURCE})", "{{source}}")],
            d.grid(0, 28, 8, 8),
            unit="bool_on_off",
            interpolation="stepAfter",
        ),
        d.timeseries(
            "Producer fetch duration",
            "Time to fetch one position from each source, 95th percentile.",
            [
                d.promql(
                    "histogram_quantile(0.95, sum by (le, source) "
                    f"(rate({FETCH_DURATION}_bucket[{RATE}])))",
                    "{{source}} p95",
                )
            ],
            d.grid(8, 28, 8, 8),
            unit="s",
            legend_calcs=["mean", "max"],
        ),
        d.timeseries(
            "TLE age",
            "Age of the element set SGP4 propagates from; positions drift as it ages.",
            [d.promql(f"max({TLE_AGE})", "TLE age")],
            d.grid(16, 28, 8, 8),
            unit="s",
        ),
    ]


def operator_panels() -> list[core.Panel]:
    return [
        d.timeseries(
            "Operator checks",
            "Health checks the operator ran per second, by pipeline and outcome.",
            [
                d.promql(
                    f"sum by (pipeline, outcome) (rate({CHECKS}[{RATE}]))",
                    "{{pipeline}} {{outcome}}",
                )
            ],
            d.grid(0, 36, 8, 8),
            unit="ops",
            legend_calcs=["mean"],
        ),
        d.timeseries(
            "Operator restarts",
            "Restarts by pipeline, component and reason, per interval.",
            [
                d.promql(
                    f"sum by (pipeline, component, reason) (increase({RESTARTS}[{RATE}]))",
                    "{{pipeline}} {{component}}: {{reason}}",
                )
            ],
            d.grid(8, 36, 8, 8),
            unit="short",
            draw_style="bars",
            legend_calcs=["sum"],
        ),
        d.timeseries(
            "Operator decision time",
            "Time the operator takes to read metrics and decide, 50th, 95th and 99th percentiles.",
            _quantiles(DECISION_SECONDS),
            d.grid(16, 36, 8, 8),
            unit="s",
            legend_calcs=["mean", "max"],
        ),
    ]


def alert_panels() -> list[core.Panel]:
    return [
        core.StateTimeline(
            title="Alerts: firing and resolved",
            description="The chart's alerting rules as Prometheus evaluates them: red while an "
            "alert fires, green once it has resolved. Alerts that did not fire in the time range "
            "are not listed. Notifications go through Alertmanager (docs/deploy.md).",
            dataSource=d.PROMETHEUS,
            targets=[d.promql(ALERTS_PANEL_EXPR, "{{alertname}} {{namespace}}")],
            gridPos=d.grid(0, 44, 24, 6),
            mergeValues=True,
            showValue="never",
            rowHeight=0.8,
            mappings=[
                {
                    "type": "value",
                    "options": {
                        "0": {"text": "resolved", "color": "green", "index": 0},
                        "1": {"text": "firing", "color": "red", "index": 1},
                    },
                }
            ],
        )
    ]


def build() -> core.Dashboard:
    return d.dashboard(
        title="Pipeline health",
        uid=UID,
        description="Consumer lag, throughput, latency, dead letters and operator actions.",
        tags=["pipeline"],
        panels=[
            *overview_panels(),
            *dataflow_panels(),
            *error_panels(),
            *producer_panels(),
            *operator_panels(),
            *alert_panels(),
        ],
        variables=[d.prometheus_variable(), *d.scope_variables()],
        time_from="now-30m",
    )
