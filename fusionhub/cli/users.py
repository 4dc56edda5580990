"""``fusionhub user add``."""

from __future__ import annotations

import typer

from fusionhub.cli.context import STATE, domain_errors

user_app = typer.Typer(help="Users, their agencies and roles.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    name: str,
    agency: str = typer.Option(..., help="Agency code."),
    role: list[str] = typer.Option(..., "--role", help="Role (repeatable)."),
    display_name: str = typer.Option(None, help="Full name."),
) -> None:
    """Add a user."""
    from fusionhub.policy.identity import add_user

    with domain_errors():
        actor = add_user(STATE.store(), name, agency, role, display_name)
    typer.echo(f"user {actor.username} added ({', '.join(sorted(actor.roles))}, {actor.agency})")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
