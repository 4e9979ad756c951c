from ..support.operator import cluster, metrics, operator, pipeline_crd

__all__ = ["cluster", "metrics", "operator", "pipeline_crd"]
