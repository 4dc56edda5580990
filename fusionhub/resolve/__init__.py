"""Entity resolution: persons, vehicles, organisations, phones and addresses across sources.

``features`` (person rows), ``model`` (Splink settings and unsupervised training),
``engine`` (DuckDB or Spark), ``deterministic`` (strong identifiers), ``clusters``,
``decisions`` (analysts' overrides), ``resolver`` (full and incremental runs; a system
process), ``profile`` (the policy-filtered fused profile), ``linkfiles`` (``fusionhub
link`` for arbitrary files). See docs/resolve.md.
"""
