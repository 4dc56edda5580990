"""``fusionhub disseminate release|emergency|log|reviews|review``: releases outside the
project (28 CFR 23.20(e)-(g)) and the emergency assessment path (23.20(f)(2))."""

from __future__ import annotations

import sys

import typer

from fusionhub.cli.context import STATE, acting_actor, domain_errors, print_json

disseminate_app = typer.Typer(
    help="Release records outside the project, and the dissemination log.", no_args_is_help=True
)


@disseminate_app.command("release")
def release(
    record_ids: list[int],
    to_agency: str = typer.Option(..., "--to-agency", help="Recipient agency code (with a current agreement)."),
    to_person: str = typer.Option(..., "--to-person", help="Recipient person (name, title)."),
    reason: str = typer.Option(..., help="Why: the recipient's need and right to know."),
) -> None:
    """Release records to a law-enforcement recipient; recorded to whom, when and why."""
    from fusionhub.policy.dissemination import disseminate

    actor = acting_actor()
    with domain_errors():
        done = disseminate(STATE.store(), actor, list(record_ids), to_agency, to_person, reason)
    typer.echo(f"released {len(done.record_ids)} record(s) to {done.recipient_person} ({done.recipient_agency})")


@disseminate_app.command("emergency")
def emergency(
    record_ids: list[int],
    danger: str = typer.Option(..., help="What is in imminent danger: life or property."),
    justification: str = typer.Option(..., help="Why the danger is imminent and the release necessary."),
    supervisor: str = typer.Option(..., help="The supervisor of your agency who reviews this release."),
    to_person: str = typer.Option(..., "--to-person", help="Recipient person (name, title)."),
    to_organization: str = typer.Option(..., "--to-organization", help="Recipient's organization."),
    assessment: str = typer.Option(
        None, help="Your assessment (the text released; never the record's own). '-' or absent: read stdin."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Release your assessment (never the records) to avoid imminent danger to life or property."""
    from fusionhub.policy.emergency import release_assessment

    actor = acting_actor()
    text = sys.stdin.read() if assessment in (None, "-") else assessment
    with domain_errors():
        done = release_assessment(
            STATE.store(),
            actor,
            list(record_ids),
            text,
            danger=danger,
            justification=justification,
            supervisor=supervisor,
            recipient_person=to_person,
            recipient_organization=to_organization,
        )
    if as_json:
        print_json(done.to_json())
        return
    typer.echo(
        f"emergency release {done.id}: assessment released to {done.recipient_person} "
        f"({done.recipient_organization}); review by {done.supervisor} due {done.review_due}"
    )


@disseminate_app.command("log")
def log(
    record_id: int = typer.Option(None, "--record", help="Only releases of this record."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The dissemination log and the emergency releases (privacy officers, auditors, supervisors)."""
    from fusionhub.policy.dissemination import dissemination_log
    from fusionhub.policy.emergency import emergency_releases

    actor = acting_actor()
    with domain_errors():
        releases = dissemination_log(STATE.store(), actor, record_id)
        emergencies = [
            e for e in emergency_releases(STATE.store(), actor) if record_id is None or record_id in e.record_ids
        ]
    if as_json:
        print_json({"releases": releases, "emergency": [e.to_json() for e in emergencies]})
        return
    for r in releases:
        typer.echo(
            f"{r['released_at']}\trecord {r['record_id']}\t{r['marking']}\tto {r['recipient_person']} "
            f"({r['recipient_agency']})\tby {r['released_by']}\t{r['reason']}"
        )
    for e in emergencies:
        typer.echo(
            f"{e.released_at}\tEMERGENCY {e.id} ({e.danger})\trecords {','.join(map(str, e.record_ids))}\t"
            f"to {e.recipient_person} ({e.recipient_organization})\tby {e.released_by}\treview {e.review_status}"
        )


@disseminate_app.command("reviews")
def reviews(as_json: bool = typer.Option(False, "--json")) -> None:
    """Your open post-hoc reviews of emergency releases (privacy officers: every open one)."""
    from fusionhub.policy.emergency import review_queue

    actor = acting_actor()
    with domain_errors():
        items = review_queue(STATE.store(), actor)
    if as_json:
        print_json([i.to_json() for i in items])
        return
    for i in items:
        flag = "  OVERDUE" if i.overdue else ""
        typer.echo(f"{i.id}\tdue {i.review_due}{flag}\tby {i.released_by}\tto {i.recipient_organization}")


@disseminate_app.command("review")
def review(
    release_id: int,
    outcome: str = typer.Option(..., help="upheld or unwarranted."),
    note: str = typer.Option(..., help="The review's explanation."),
) -> None:
    """Review an emergency release after the fact (its named supervisor)."""
    from fusionhub.policy.emergency import review as do_review

    actor = acting_actor()
    with domain_errors():
        done = do_review(STATE.store(), actor, release_id, outcome, note)
    typer.echo(f"emergency release {done.id} reviewed: {done.review_status}")


def register(app: typer.Typer) -> None:
    app.add_typer(disseminate_app, name="disseminate")
