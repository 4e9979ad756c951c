"""The one base exception of pass prediction, and its kinds (a bad element set raises
`iss_physics.tle.ElementsError`, a `ValueError`)."""

from __future__ import annotations


class PassError(Exception):
    """Input that pass prediction cannot use; the message says what and why."""


class ObserverError(PassError):
    """An observer location outside the Earth's coordinates."""


class WindowError(PassError):
    """A time window that is empty, naive, or too far from the elements' epoch for SGP4."""
