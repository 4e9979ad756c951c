"""Versioned SQL migrations, applied in file-name order by `iss_enricher.storage.schema`."""
