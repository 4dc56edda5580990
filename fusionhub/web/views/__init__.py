"""Pages of the domains that plug into the workspace (one module per domain, each with a ``router``)."""
