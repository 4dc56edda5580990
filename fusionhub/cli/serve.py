"""``fusionhub serve``: the workspace and the REST API over the chosen store."""

from __future__ import annotations

import typer

from fusionhub.cli.context import STATE


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, help="Import worker threads."),
) -> None:
    """Serve the analyst workspace (/) and the REST API (/api/v1) until interrupted."""
    import uvicorn

    from fusionhub.api import create_app

    app = create_app(STATE.store(), import_workers=workers)
    typer.echo(f"FusionHub on http://{host}:{port}/  (API: /api/v1, OpenAPI: /api/v1/openapi.json)")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
