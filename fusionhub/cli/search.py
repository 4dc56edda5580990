"""``fusionhub search QUERY`` and ``fusionhub index rebuild|status``."""

from __future__ import annotations

from collections.abc import Callable

import typer

from fusionhub.cli.context import EXIT_USAGE, STATE, acting_actor, domain_errors, fail, print_json

index_app = typer.Typer(help="The search index beside the store (derived; rebuildable).", no_args_is_help=True)


def search_command(
    query: str = typer.Argument(..., help='The query, e.g. name:"jon smyth" dob:1980-05-06 (see docs/search.md).'),
    as_json: bool = typer.Option(False, "--json", help="Print total, facets and hits as JSON."),
    limit: int = typer.Option(20, "--limit", min=0, max=500),
    offset: int = typer.Option(0, "--offset", min=0),
    sort: str = typer.Option("relevance", "--sort", help="relevance, occurred, -occurred, received, -received"),
    purpose: str = typer.Option(None, "--purpose", help="Why you search: a case number or a configured reason."),
) -> None:
    """Search every source and entity type (only what you may read is found or counted)."""
    from fusionhub.search.query import QuerySyntaxError
    from fusionhub.search.service import search

    actor = acting_actor()
    with domain_errors():
        try:
            result = search(STATE.store(), actor, query, purpose=purpose, limit=limit, offset=offset, sort=sort)
        except QuerySyntaxError as exc:
            fail(f"query: {exc}", EXIT_USAGE)
    if as_json:
        body = result.to_json()
        print_json(
            {"total": body["total"], "facets": body["facets"], "hits": body["hits"], "warnings": body["warnings"]}
        )
        return
    typer.echo(f"{result.total} found; showing {offset + 1 if result.hits else 0}-{offset + len(result.hits)}")
    for warning in result.warnings:
        typer.echo(f"note: {warning}", err=True)
    for hit in result.hits:
        prov = hit.provenance
        why = "; ".join(
            f"{m['field']} {m.get('value', m.get('query', ''))} ({m['how']})"
            for m in hit.matched
            if m["how"] != "filter"
        )
        typer.echo(
            f"[{prov['caveat']}] record {hit.record_id} {hit.entity_type} {hit.caption!r}  score {hit.score}\n"
            f"    {prov['agency']}/{prov['source']} id {prov['source_record_id']} received {prov['received_at'][:10]}"
            f" graded {prov['reliability']}{prov['validity']}  matched: {why or '-'}"
        )
    for name, buckets in result.facets.items():
        if buckets:
            typer.echo(f"{name}: " + ", ".join(f"{b['value']} {b['count']}" for b in buckets[:10]))


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Drop the search index and index the whole store again."""
    import time

    from fusionhub.search.follower import engine_for, rebuild

    store = STATE.store()
    started = time.perf_counter()
    with domain_errors():
        count = rebuild(store, progress=_progress())
    stats = engine_for(store).stats()
    print_json({"records": count, "seconds": round(time.perf_counter() - started, 2), **stats})


@index_app.command("status")
def index_status() -> None:
    """Where the index is, how far it has read the change sequence and how far behind it is."""
    from fusionhub.search.follower import engine_for

    store = STATE.store()
    stats = engine_for(store).stats()
    last = store.last_seq()
    print_json({**stats, "store_seq": last, "behind": last - int(stats["cursor"])})  # type: ignore[call-overload]


@index_app.command("catch-up")
def index_catch_up() -> None:
    """Index the changes the index has not seen yet (also done after imports and searches)."""
    from fusionhub.search.follower import catch_up

    print_json({"records": catch_up(STATE.store(), progress=_progress())})


def _progress() -> Callable[[int, int], None] | None:
    from fusionhub.cli.context import is_terminal

    if not is_terminal():
        return None

    def show(done: int, seq: int) -> None:
        typer.echo(f"\rindexed {done} records (seq {seq})", err=True, nl=False)

    return show


def register(app: typer.Typer) -> None:
    # Importing the follower registers it, so imports run from this CLI keep the index current.
    import fusionhub.search.follower  # noqa: F401

    app.command("search")(search_command)
    app.add_typer(index_app, name="index")
