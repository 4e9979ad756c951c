"""Fixtures of the enricher tests: one enricher's topics, database and settings, and its log."""

from ..support.enricher import enricher_log, pipeline

__all__ = ["enricher_log", "pipeline"]
