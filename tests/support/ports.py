"""Free TCP ports on 127.0.0.1: the devstack's own `free_port`, the one every test and benchmark
uses."""

from __future__ import annotations

from iss_devstack.procs import free_port

__all__ = ["free_port"]
