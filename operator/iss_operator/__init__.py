"""Kopf operator that keeps a Pipeline healthy."""
