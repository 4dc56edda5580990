"""``fusionhub audit verify|query|checkpoint`` (``fusionhub policy`` lives in cli/policy.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from fusionhub.cli.context import STATE, acting_actor, domain_errors, parse_when, print_json

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    checkpoint: Path = typer.Option(None, help="A shipped copy of the checkpoint file to check against."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check the whole chain. Exit 0 when intact; 6 naming the first bad event otherwise."""
    from fusionhub.policy.audit import verify

    with domain_errors():
        result = verify(STATE.store(), checkpoint)
    if as_json:
        print_json(result.to_json())
    elif result.ok:
        typer.echo(
            f"audit chain intact: {result.events} events, head {result.head_seq}, "
            f"checkpoint {result.checkpoint_seq}, {result.seconds} s"
        )
    else:
        typer.echo(f"AUDIT CHAIN BROKEN at event {result.first_bad}: {result.problem}", err=True)
    if not result.ok:
        raise typer.Exit(6)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Write the current chain head to the checkpoint file now (e.g. before shipping it)."""
    from fusionhub.policy.audit import checkpoint

    with domain_errors():
        point = checkpoint(STATE.store())
    store = STATE.store()
    typer.echo(f"checkpoint {store.settings.audit_checkpoint}: {point.seq if point else 0}")


@audit_app.command("query")
def audit_query(
    user: str = typer.Option(None, help="Everything this user did."),
    record: int = typer.Option(None, help="Who looked at this record (views and searches that returned it)."),
    text: str = typer.Option(None, help="Events whose query, subject or purpose mentions this (e.g. a name)."),
    action: str = typer.Option(None, help="Action, '*' as wildcard: login.*, search, record.view ..."),
    since: str = typer.Option(None, "--from", help="From (ISO date/time)."),
    until: str = typer.Option(None, "--to", help="To (ISO date/time)."),
    limit: int = typer.Option(1000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Query the audit trail (auditors and privacy officers; the query is itself audited)."""
    from fusionhub.policy.audit import query

    actor = acting_actor()
    with domain_errors():
        events = query(
            STATE.store(),
            actor,
            user=user,
            record_id=record,
            text=text,
            action=action,
            since=parse_when(since),
            until=parse_when(until),
            limit=limit,
        )
    if as_json:
        print_json([e.to_json() for e in events])
        return
    for e in events:
        typer.echo(f"{e.id}\t{e.ts}\t{e.username}\t{e.action}\t{e.subject or ''}\t{e.purpose or ''}")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
