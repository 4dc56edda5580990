"""Ingest: sources, connectors, mapping profiles, the import pipeline and its quarantine."""
