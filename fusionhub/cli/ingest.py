"""``fusionhub ingest PATH --source NAME [--profile FILE]``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from fusionhub.cli.context import EXIT_PARTIAL, EXIT_UNREADABLE, STATE, domain_errors, is_terminal, print_json
from fusionhub.ingest.pipeline import ingest_file


def ingest(
    path: Path = typer.Argument(..., help="The file to import."),
    source: str = typer.Option(..., help="Registered source name."),
    profile: str = typer.Option(None, help="Mapping profile (shipped name or YAML file); defaults to the source's."),
) -> None:
    """Import a file. The last line printed is a JSON report.

    Exit status: 0 every row landed; 3 some rows were quarantined; 4 the file cannot be read
    (at all: nothing stored; or from some row on: the whole chunks before it are stored).
    """
    store = STATE.store()
    with domain_errors():
        if is_terminal():
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[rows]} rows"),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                transient=True,
            ) as bar:
                task = bar.add_task(path.name, total=None, rows=0)

                def progress(rows: int, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total, rows=rows)

                report = ingest_file(store, path, source, profile, user=STATE.user, progress=progress)
        else:
            report = ingest_file(store, path, source, profile, user=STATE.user)
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if report.rejected:
        typer.echo(f"{report.rejected} row(s) quarantined; see `fusionhub quarantine show {report.batch_id}`", err=True)
    if report.unreadable:
        typer.echo(f"error: {report.unreadable} (batch {report.batch_id})", err=True)
    print_json(report.to_json())
    if report.unreadable:
        raise typer.Exit(EXIT_UNREADABLE)
    if report.rejected:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
