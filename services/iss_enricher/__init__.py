"""Enricher: the Bytewax dataflow that validates, enriches and stores positions."""
