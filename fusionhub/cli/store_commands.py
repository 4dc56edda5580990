"""``fusionhub init``."""

from __future__ import annotations

import typer

from fusionhub.cli.context import STATE, domain_errors


def init() -> None:
    """Create or upgrade the store's schema (safe to run again)."""
    store = STATE.store(initialised=False)
    with domain_errors():
        store.init()
        from fusionhub.policy.audit import ensure_key

        ensure_key(store.settings)  # the audit chain's HMAC key file, mode 0600
    typer.echo(f"store ready: {store.safe_url}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
