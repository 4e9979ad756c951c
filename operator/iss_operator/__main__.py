"""``iss-operator``: run the Pipeline operator (kopf) for one namespace or cluster-wide."""

from __future__ import annotations

import argparse
import logging
import sys

import kopf
from pydantic import ValidationError

from iss_operator.handlers import Runtime, build_registry
from iss_operator.metrics import build_metrics, serve
from iss_operator.settings import OperatorSettings

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="iss-operator",
        description="Watch Pipeline resources and restart the component at fault. "
        "Every option also reads ISS_OPERATOR_<NAME> from the environment.",
    )
    parser.add_argument("--namespace", help="namespace to watch (ISS_OPERATOR_NAMESPACE)")
    parser.add_argument("--log-format", choices=["json", "text"])
    parser.add_argument(
        "--standalone",
        action="store_true",
        default=None,
        help="run without leader election (development only: one process)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    overrides = {
        key: value
        for key, value in {
            "namespace": args.namespace,
            "log_format": args.log_format,
            "standalone": args.standalone,
        }.items()
        if value is not None
    }
    try:
        settings = OperatorSettings(**overrides)
    except ValidationError as exc:
        sys.exit(f"iss-operator: invalid configuration (ISS_OPERATOR_* variables): {exc}")
    kopf.configure(
        log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.FULL,
        log_refkey="pipeline",
    )
    logging.getLogger().setLevel(settings.log_level.upper())
    # kopf logs every successful timer run at INFO: once per tick per Pipeline is noise.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)

    metrics = build_metrics()
    if settings.metrics_port:
        serve(metrics, settings.metrics_host, settings.metrics_port)
    runtime = Runtime(settings=settings, metrics=metrics)
    scope = "cluster-wide" if settings.clusterwide else f"in namespace {settings.namespace}"
    if settings.pipeline_selector:
        scope += f" labelled {settings.pipeline_selector}"
    logger.info(
        "watching Pipelines %s; metrics on %s:%s; liveness on %s; leader election %s",
        scope,
        settings.metrics_host,
        settings.metrics_port,
        settings.liveness_endpoint or "(off)",
        "off" if settings.standalone else f"on the Lease {settings.lease_name}",
    )
    # Peering stays off: the Lease elects the replica that acts (leader.py), and kopf's
    # peering keep-alive would hold the exit while the API server is away.
    kopf.run(
        registry=build_registry(runtime),
        clusterwide=settings.clusterwide,
        namespaces=[] if settings.clusterwide else [settings.namespace],
        standalone=True,
        stop_flag=runtime.stop_flag,
    )
    if runtime.exit_code:
        sys.exit(runtime.exit_code)


if __name__ == "__main__":
    main()
