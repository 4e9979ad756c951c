"""Values of the Pipeline resource that packages other than the operator read: the operator's
spec and the dashboards' thresholds share them, so a changed default changes both."""

from __future__ import annotations

DEFAULT_FRESHNESS_THRESHOLD_SECONDS = 15.0
"""A component is stale when its newest output is older than this, unless its spec says."""
