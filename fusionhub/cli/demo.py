"""``fusionhub demo``: a demo fusion center with generated and real data, in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from fusionhub.cli.context import EXIT_PARTIAL, STATE, domain_errors, fail, print_json


def demo(
    size: int = typer.Option(5000, "--size", min=1, help="Generated source records in all (thousands to millions)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the generator: the same seed gives the same files."),
    out: Path = typer.Option(None, "--out", help="Folder for the generated exports (default: DATA_DIR/demo)."),
    real: bool = typer.Option(True, "--real/--no-real", help="Also load the real incident files that have a profile."),
    data: Path = typer.Option(
        None, "--data", envvar="FUSIONHUB_SHARED_DATA", help="Shared data folder (default ../shared/data)."
    ),
) -> None:
    """Create demo agencies, sources and users, generate the demo exports and import them.

    Running it again changes nothing. The last line printed is a JSON summary.
    """
    from fusionhub.demo import DemoDataMissing
    from fusionhub.demo.loader import load_demo

    store = STATE.store(initialised=False)
    with domain_errors():
        store.init()
        try:
            report = load_demo(store, size, seed, out, real, data, say=typer.echo)
        except DemoDataMissing as exc:
            fail(str(exc))
    body = report.to_json()
    typer.echo(
        f"demo ready: {len(report.agencies_added)} agencies, {len(report.sources_added)} sources, "
        f"{len(report.users_added)} users added; {body['stored']} records stored, {body['updated']} updated, "
        f"{body['rejected']} quarantined"
    )
    for note in report.notes:
        typer.echo(f"note: {note}")
    print_json(body)
    if report.rejected:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
