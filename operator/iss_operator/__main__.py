"""``iss-operator``: run the Pipeline operator (kopf) for one namespace or cluster-wide."""

from __future__ import annotations

import argparse
import logging

import kopf

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
        help="run without peering (development only)",
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
    settings = OperatorSettings(**overrides)
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
    scope = "cluster-wide" if settings.clusterwide else f"namespace {settings.namespace}"
    logger.info(
        "watching Pipelines %s; metrics on %s:%s; peering %s",
        scope,
        settings.metrics_host,
        settings.metrics_port,
        "off" if settings.standalone else settings.peering_name,
    )
    kopf.run(
        registry=build_registry(runtime),
        clusterwide=settings.clusterwide,
        namespaces=[] if settings.clusterwide else [settings.namespace],
        standalone=settings.standalone,
        priority=settings.priority,
        peering_name=settings.peering_name,
        liveness_endpoint=settings.liveness_endpoint or None,
    )


if __name__ == "__main__":
    main()
