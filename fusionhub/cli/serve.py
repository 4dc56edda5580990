"""``fusionhub serve``: the workspace and the REST API over the chosen store."""

from __future__ import annotations

import os

import typer

from fusionhub.cli.context import STATE


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, help="Import worker threads."),
    processes: int = typer.Option(
        1, min=1, help="Server processes sharing the port (one per core: Python runs one thread at a time)."
    ),
    access_log: bool = typer.Option(
        False,
        "--access-log/--no-access-log",
        help="Log every HTTP request to stderr (every look at records is in the audit trail either way).",
    ),
) -> None:
    """Serve the analyst workspace (/) and the REST API (/api/v1) until interrupted."""
    import uvicorn

    from fusionhub.api import create_app

    store = STATE.store()
    typer.echo(f"FusionHub on http://{host}:{port}/  (API: /api/v1, OpenAPI: /api/v1/openapi.json)")
    # uvloop and httptools when installed (they are dependencies): uvicorn's pure-Python
    # HTTP parser and event loop cost about as much CPU per request as a record view.
    options = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
        "proxy_headers": False,
        "server_header": False,
        "loop": "auto",
        "http": "auto",
    }
    if processes == 1:
        uvicorn.run(create_app(store, import_workers=workers), **options)  # type: ignore[arg-type]
        return
    # Each process builds its own app (uvicorn starts them afresh) over the same store
    # and search index: the index is opened by each, written by whichever indexes a
    # change first (tantivy's writer lock), and re-read by the others before a search
    # (see fusionhub.search.service); import progress is shared through files.
    os.environ["FUSIONHUB_STORE"] = store.url
    os.environ["FUSIONHUB_DATA"] = str(store.data_dir)
    os.environ["FUSIONHUB_IMPORT_WORKERS"] = str(workers)
    # uvicorn kills a process that does not answer its health check within the timeout
    # (5 s by default); starting up (imports, the index, the model) on a busy machine
    # took longer, and the processes were killed and restarted in a loop.
    uvicorn.run(
        "fusionhub.api.app:app_from_env",
        factory=True,
        workers=processes,
        timeout_worker_healthcheck=60,
        **options,  # type: ignore[arg-type]
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
