"""``fusionhub recent-searches``: the acting user's own recent searches (from the audit)."""

from __future__ import annotations

import typer

from fusionhub.cli.context import STATE, acting_actor, print_json


def recent_searches_command(
    limit: int = typer.Option(10, min=1, max=50, help="How many distinct searches."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Your own newest searches: query, purpose, when and hits (never anyone else's)."""
    from fusionhub.policy.activity import recent_searches

    found = recent_searches(STATE.store(), acting_actor(), limit)
    if as_json:
        print_json([s.to_json() for s in found])
        return
    for s in found:
        typer.echo(f"{s.when}\t{s.hits}\t{s.purpose or ''}\t{s.query}")


def register(app: typer.Typer) -> None:
    app.command("recent-searches")(recent_searches_command)
