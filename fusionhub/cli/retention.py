"""``fusionhub retention queue|validate|run|purge-log`` (28 CFR 23.20(h))."""

from __future__ import annotations

import typer

from fusionhub.cli.context import STATE, acting_actor, domain_errors, print_json

retention_app = typer.Typer(help="Review, validation and purge of records (28 CFR Part 23).", no_args_is_help=True)


@retention_app.command("queue")
def retention_queue(
    within: int = typer.Option(90, help="Days ahead to look."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Records due for review (validate or let them be purged)."""
    from fusionhub.policy.retention import review_queue

    actor = acting_actor()
    with domain_errors():
        items = review_queue(STATE.store(), actor, within_days=within)
    if as_json:
        print_json([i.to_json() for i in items])
        return
    for i in items:
        flag = "OVERDUE" if i.overdue else "due"
        typer.echo(f"{i.record_id}\t{i.record_class}\t{i.agency}\t{flag} {i.review_due}\t{i.criminal_activity or ''}")


@retention_app.command("validate")
def retention_validate(
    record_id: int,
    justification: str = typer.Option(..., help="Why the record is kept (e.g. 'active investigation 24-001')."),
) -> None:
    """Validate a record: a new five-year review period, with your explanation."""
    from fusionhub.policy.retention import validate

    actor = acting_actor()
    with domain_errors():
        due = validate(STATE.store(), actor, record_id, justification)
    typer.echo(f"record {record_id} validated; next review {due.date().isoformat()}")


@retention_app.command("run")
def retention_run(as_json: bool = typer.Option(False, "--json")) -> None:
    """Purge what is due. Idempotent; safe to run from cron (as a named user: FUSIONHUB_USER)."""
    from fusionhub.policy.retention import run

    actor = acting_actor()
    with domain_errors():
        report = run(STATE.store(), actor)
    if as_json:
        print_json(report.to_json())
        return
    typer.echo(f"purged {len(report.purged)} record(s); {report.due_soon} due for review within 90 days")


@retention_app.command("purge-log")
def retention_purge_log(as_json: bool = typer.Option(False, "--json")) -> None:
    """Who purged which record, when and why (no content)."""
    from fusionhub.policy.retention import purge_log

    actor = acting_actor()
    with domain_errors():
        rows = purge_log(STATE.store(), actor)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['record_id']}\t{r['record_class']}\t{r['purged_at']}\t{r['purged_by']}\t{r['reason']}")


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
