"""The one exception type of the local stack."""


class DevstackError(RuntimeError):
    """A service could not be installed or started. The message says how to fix it."""
