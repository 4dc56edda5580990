"""``fusionhub policy show|history|apply``: the P/CRCL policy and its versions.

Reading needs the privacy officer or an administrator; applying needs the privacy
officer. ``apply`` always validates and prints the dry run; ``--dry-run`` stops there.
"""

from __future__ import annotations

from pathlib import Path

import typer

from fusionhub.cli.context import STATE, acting_actor, domain_errors, fail, print_json

policy_app = typer.Typer(help="The privacy policy in force and its versions.", no_args_is_help=True)


@policy_app.command("show")
def policy_show(
    version: int = typer.Option(None, help="A version number from `policy history` (default: the active one)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print the active policy (or an older version) with its version and SHA-256."""
    from fusionhub.policy.versions import active_version, get_version, policy_summary

    actor = acting_actor()
    with domain_errors():
        chosen = get_version(STATE.store(), actor, version) if version else active_version(STATE.store(), actor)
        summary = policy_summary(chosen)
    if as_json:
        print_json(summary)
        return
    state = "active" if chosen.active else "inactive"
    typer.echo(f"# policy version {chosen.id} ({state}) {chosen.label}  sha256 {chosen.sha256}")
    typer.echo(f"# by {chosen.created_by} {chosen.created_at or ''}: {chosen.note}")
    typer.echo(chosen.text, nl=not chosen.text.endswith("\n"))


@policy_app.command("history")
def policy_history(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every version, newest (active) first."""
    from fusionhub.policy.versions import history

    actor = acting_actor()
    with domain_errors():
        versions = history(STATE.store(), actor)
    if as_json:
        print_json([v.to_json(with_text=False) for v in versions])
        return
    for v in versions:
        mark = "*" if v.active else " "
        typer.echo(f"{mark} {v.id}\t{v.label}\t{v.sha256[:12]}\t{v.created_at or 'packaged'}\t{v.created_by}\t{v.note}")


@policy_app.command("apply")
def policy_apply(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The new policy (YAML)."),
    note: str = typer.Option("", "--note", help="Why the policy changes (required to activate)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count the effect; change nothing."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate FILE, show per role how many records it newly allows or denies, and
    (without --dry-run) make it the active version, audited as a policy change."""
    from fusionhub.policy.versions import submit

    actor = acting_actor()
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    with domain_errors():
        result = submit(STATE.store(), actor, text, note=note, activate=not dry_run)
    if as_json:
        print_json(result.to_json())
        return
    typer.echo(
        f"{file}: valid policy {result.policy.version or '(no label)'} with {len(result.policy.read_rules)} read rules"
    )
    typer.echo("role\tnewly allowed\tnewly denied")
    for impact in result.impact:
        typer.echo(f"{impact.role}\t{impact.newly_allowed}\t{impact.newly_denied}")
    if result.activated is None:
        typer.echo(f"dry run: the active version is still {result.previous.id}")
    else:
        typer.echo(f"version {result.activated.id} is active (was {result.previous.id}); the change is audited")


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")
