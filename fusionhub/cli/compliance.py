"""``fusionhub compliance report`` and ``fusionhub redress request|list|decide``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from fusionhub.cli.context import STATE, acting_actor, domain_errors, fail, parse_when, print_json

compliance_app = typer.Typer(help="P/CRCL compliance reporting.", no_args_is_help=True)
redress_app = typer.Typer(help="Correction and redress requests.", no_args_is_help=True)


@compliance_app.command("report")
def compliance_report(
    since: str = typer.Option(None, "--from", help="From (ISO date)."),
    until: str = typer.Option(None, "--to", help="To (ISO date)."),
    fmt: str = typer.Option("json", "--format", help="json, csv or pdf."),
    output: Path = typer.Option(None, "--output", "-o", help="File to write (pdf needs one, or goes to stdout)."),
) -> None:
    """Accesses by role and agency, denials, purges, overdue reviews, lapsed training,
    First Amendment refusals, redress requests and the audit chain's status."""
    from fusionhub.policy import compliance

    if fmt not in ("json", "csv", "pdf"):
        fail("--format is json, csv or pdf", 2)
    actor = acting_actor()
    with domain_errors():
        report = compliance.build_report(STATE.store(), actor, parse_when(since), parse_when(until))
    if fmt == "pdf":
        data = compliance.to_pdf(report)
        if output:
            output.write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
        return
    text = compliance.to_csv(report) if fmt == "csv" else None
    if output:
        import json

        output.write_text(text if text is not None else json.dumps(report, indent=2))
    elif text is not None:
        typer.echo(text, nl=False)
    else:
        print_json(report)


@redress_app.command("request")
def redress_request(
    record_id: int,
    reason: str = typer.Option(..., help="What is wrong."),
    entity: str = typer.Option(None, help="Entity id of the value to correct."),
    prop: str = typer.Option(None, "--property", help="Property to correct."),
    value: str = typer.Option(None, help="The corrected value."),
) -> None:
    """Flag a record for correction (anyone who may read it)."""
    from fusionhub.policy.redress import request_correction

    actor = acting_actor()
    with domain_errors():
        request_id = request_correction(
            STATE.store(), actor, record_id, reason, entity_id=entity, prop=prop, proposed_value=value
        )
    typer.echo(f"redress request {request_id} opened on record {record_id}")


@redress_app.command("list")
def redress_list(
    status: str = typer.Option("open", help="open, accepted, rejected or all."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Requests about your agency's records (privacy officers: all)."""
    from fusionhub.policy.redress import list_requests

    actor = acting_actor()
    with domain_errors():
        items = list_requests(STATE.store(), actor, None if status == "all" else status)
    if as_json:
        print_json([i.to_json() for i in items])
        return
    for i in items:
        typer.echo(f"{i.id}\trecord {i.record_id}\t{i.status}\t{i.requested_by}\t{i.reason}")


@redress_app.command("decide")
def redress_decide(
    request_id: int,
    accept: bool = typer.Option(..., "--accept/--reject"),
    note: str = typer.Option(..., help="The decision's explanation."),
) -> None:
    """Decide a request (owning agency); an accepted correction becomes a new version."""
    from fusionhub.policy.redress import decide_request

    actor = acting_actor()
    with domain_errors():
        decided = decide_request(STATE.store(), actor, request_id, accept, note)
    typer.echo(f"redress request {request_id} {decided.status}")


def register(app: typer.Typer) -> None:
    app.add_typer(compliance_app, name="compliance")
    app.add_typer(redress_app, name="redress")
