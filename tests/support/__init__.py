"""Helpers the tests and the benchmarks share: ports, waits, message builders, sample data.
Nothing here is a test; no test module imports another test module."""
