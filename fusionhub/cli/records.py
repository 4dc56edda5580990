"""``fusionhub record show ID`` and ``fusionhub quarantine show BATCH``."""

from __future__ import annotations

import typer
from sqlalchemy import select

from fusionhub.cli.context import STATE, acting_actor, domain_errors, print_json
from fusionhub.policy.reader import RecordReader
from fusionhub.store import tables as t

record_app = typer.Typer(help="Read records (through the policy).", no_args_is_help=True)
quarantine_app = typer.Typer(help="Rows an import could not store, with the reasons.", no_args_is_help=True)


@record_app.command("show")
def record_show(
    record_id: int,
    as_json: bool = typer.Option(False, "--json"),
    purpose: str = typer.Option(None, help="Why you look: a case number or a configured reason."),
) -> None:
    """Show a record with every value's provenance and its version history."""
    actor = acting_actor()
    with domain_errors():
        view = RecordReader(STATE.store(), actor, purpose).get(record_id)
    if as_json:
        print_json(view.to_json())
        return
    body = view.to_json()
    prov = body["provenance"]
    typer.echo(f"[{view.caveat}]  record {view.id}  {view.record_class}  v{view.version}  {view.status}")
    typer.echo(
        f"source {prov['source']} ({prov['agency']}, {prov['system']}) id {prov['source_record_id']}  "
        f"batch {prov['batch_id']}  received {prov['received_at']}  graded {prov['reliability']}{prov['validity']}"
    )
    typer.echo(f"review due {view.review_due}" + ("  DISPUTED: a correction request is open" if view.disputed else ""))
    grade = f"[{view.reliability}{view.validity}]"
    if view.predicate:
        pred = view.predicate
        typer.echo(
            f"basis (submitted by {pred['submitted_by']}): {pred['basis']}"
            + (f"  | criminal activity: {pred['criminal_activity']}" if pred["criminal_activity"] else "")
            + (f"  | nexus: {pred['nexus']}" if pred["nexus"] else "")
        )
    for entity in body["entities"]:
        typer.echo(f"  {entity['schema']} ({entity['key']}) {entity['id']}")
        for prop, values in entity["properties"].items():
            shown = [f"{v} {grade}" if isinstance(v, str) else f"{v[0]} {grade}  (as sent: {v[1]!r})" for v in values]
            typer.echo(f"    {prop}: {' | '.join(shown)}")
    for dropped in body["dropped"]:
        typer.echo(
            f"  not stored: {dropped['entity']}.{dropped['property']} = {dropped['value']!r}: {dropped['reason']}"
        )
    for version in body["versions"]:
        typer.echo(
            f"  version {version['version']} from batch {version['batch_id']}, superseded {version['superseded_at']}"
        )


@record_app.command("submit")
def record_submit(
    source: str = typer.Option(..., help="Your agency's source the record enters through."),
    record_class: str = typer.Option(..., "--class", help="sar, tip or criminal-intelligence."),
    basis: str = typer.Option(..., help="The facts that make it reasonably indicative of criminal activity."),
    activity: str = typer.Option(None, help="Suspected criminal activity (required for criminal intelligence)."),
    protected: list[str] = typer.Option(
        [],
        "--protected",
        help="Protected activity/attribute involved: speech, religion, assembly, petition, "
        "press, race, ethnicity, national-origin (repeatable).",
    ),
    nexus: str = typer.Option(None, help="The criminal or threat nexus (required with --protected)."),
    person: list[str] = typer.Option([], "--person", help="A person named in it (repeatable)."),
    narrative: str = typer.Option(None, help="Narrative."),
    caveat: str = typer.Option(None, help="Handling caveat, e.g. 'TLP:AMBER LES' (default: the source's)."),
) -> None:
    """Submit a SAR, tip or criminal intelligence record with its stated basis."""
    from fusionhub.ingest.sources import parse_caveat
    from fusionhub.policy.submission import SubmissionBasis, submit_record

    actor = acting_actor()
    with domain_errors():
        tlp, handling = parse_caveat(caveat) if caveat else (None, None)
        record_id = submit_record(
            STATE.store(),
            actor,
            source,
            record_class,
            SubmissionBasis(basis, activity, list(protected), nexus),
            persons=list(person),
            narrative=narrative,
            tlp=tlp,
            handling=handling,
        )
    typer.echo(f"record {record_id} stored")


@record_app.command("disseminate")
def record_disseminate(
    record_ids: list[int],
    to_agency: str = typer.Option(..., "--to-agency", help="Recipient agency code."),
    to_person: str = typer.Option(..., "--to-person", help="Recipient person (name, title)."),
    reason: str = typer.Option(..., help="Why (need to know)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Release records outside the project; recorded to whom, when and why."""
    from fusionhub.policy.dissemination import disseminate

    actor = acting_actor()
    with domain_errors():
        release = disseminate(STATE.store(), actor, list(record_ids), to_agency, to_person, reason)
    if as_json:
        print_json(
            {
                "released": release.record_ids,
                "to": release.recipient_agency,
                "records": [v.to_json() for v in release.views],
            }
        )
        return
    typer.echo(f"released {len(release.record_ids)} record(s) to {to_person} ({to_agency})")


@quarantine_app.command("show")
def quarantine_show(batch_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """List the quarantined rows of an import batch."""
    acting_actor()
    with STATE.store().connect() as conn:
        rows = conn.execute(
            select(t.quarantine.c.row_number, t.quarantine.c.reason, t.quarantine.c.raw)
            .where(t.quarantine.c.batch_id == batch_id)
            .order_by(t.quarantine.c.row_number)
        ).all()
    if as_json:
        print_json([{"row": r.row_number, "reason": r.reason, "raw": r.raw} for r in rows])
        return
    for r in rows:
        typer.echo(f"row {r.row_number}: {r.reason}")


def register(app: typer.Typer) -> None:
    app.add_typer(record_app, name="record")
    app.add_typer(quarantine_app, name="quarantine")
