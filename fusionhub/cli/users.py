"""``fusionhub user add|list|disable|enable|set-role|reset-mfa|set-password|set-training``
and ``fusionhub token create|list|revoke``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import typer

from fusionhub.cli.context import STATE, acting_actor, domain_errors, fail, managing_actor, print_json

user_app = typer.Typer(help="Users, their agencies, roles, passwords, MFA and training.", no_args_is_help=True)
token_app = typer.Typer(help="Scoped, expiring, revocable API tokens.", no_args_is_help=True)


def _password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line = sys.stdin.readline().rstrip("\n")
    if not line:
        fail("--password-stdin: no password on standard input")
    return line


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        fail(f"not a date (YYYY-MM-DD): {text!r}")


@user_app.command("add")
def user_add(
    name: str,
    agency: str = typer.Option(..., help="Agency code."),
    role: list[str] = typer.Option(..., "--role", help="Role (repeatable)."),
    display_name: str = typer.Option(None, help="Full name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    training_date: str = typer.Option(None, help="Date of the last P/CRCL training (YYYY-MM-DD); default today."),
) -> None:
    """Add a user (non-interactive)."""
    from fusionhub.policy.identity import add_user

    by = managing_actor()
    password = _password(password_stdin)
    with domain_errors():
        actor = add_user(
            STATE.store(),
            name,
            agency,
            role,
            display_name,
            password=password,
            training_date=_date(training_date),
            by=by,
        )
    typer.echo(f"user {actor.username} added ({', '.join(sorted(actor.roles))}, {actor.agency})")


@user_app.command("list")
def user_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List users with roles, training currency, MFA and lock state."""
    from fusionhub.policy.identity import list_users

    if STATE.user:
        actor = acting_actor()
        if not actor.has("administrator", "privacy-officer", "auditor"):
            fail("only administrators, privacy officers and auditors list users", 5)
    users = list_users(STATE.store())
    if as_json:
        print_json([u.to_json() for u in users])
        return
    for u in users:
        state = "active" if u.active else "disabled"
        training = f"trained {u.training_date}" + ("" if u.training_current else " (LAPSED)")
        mfa = "mfa" if u.mfa_enrolled else "no-mfa"
        typer.echo(f"{u.username}\t{u.agency}\t{','.join(u.roles)}\t{state}\t{training}\t{mfa}")


@user_app.command("disable")
def user_disable(name: str) -> None:
    """Disable a user: every session and token stops at once."""
    from fusionhub.policy.identity import disable_user

    by = managing_actor()
    with domain_errors():
        disable_user(STATE.store(), name, by=by)
    typer.echo(f"user {name} disabled")


@user_app.command("enable")
def user_enable(name: str) -> None:
    """Enable a disabled user (and clear a lockout)."""
    from fusionhub.policy.identity import enable_user

    by = managing_actor()
    with domain_errors():
        enable_user(STATE.store(), name, by=by)
    typer.echo(f"user {name} enabled")


@user_app.command("set-role")
def user_set_role(name: str, role: list[str] = typer.Option(..., "--role", help="Role (repeatable).")) -> None:
    """Replace a user's roles (a permission change, audited)."""
    from fusionhub.policy.identity import set_roles

    by = managing_actor()
    with domain_errors():
        set_roles(STATE.store(), name, role, by=by)
    typer.echo(f"user {name}: {', '.join(sorted(set(role)))}")


@user_app.command("reset-mfa")
def user_reset_mfa(name: str) -> None:
    """Forget a user's authenticator; they enrol again at next sign-in."""
    from fusionhub.policy.identity import reset_mfa

    by = managing_actor()
    with domain_errors():
        reset_mfa(STATE.store(), name, by=by)
    typer.echo(f"user {name}: MFA reset")


@user_app.command("set-password")
def user_set_password(
    name: str,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set a user's password (argon2id)."""
    from fusionhub.policy.auth import set_password

    by = managing_actor()
    password = _password(password_stdin) if password_stdin else typer.prompt("password", hide_input=True)
    assert password is not None
    with domain_errors():
        set_password(STATE.store(), name, password, by=by)
    typer.echo(f"user {name}: password set")


@user_app.command("set-training")
def user_set_training(name: str, date: str = typer.Argument(..., help="YYYY-MM-DD")) -> None:
    """Record the date of a user's P/CRCL training."""
    from fusionhub.policy.identity import set_training

    by = managing_actor()
    when = _date(date)
    assert when is not None
    with domain_errors():
        set_training(STATE.store(), name, when, by=by)
    typer.echo(f"user {name}: trained {when.date().isoformat()}")


@token_app.command("create")
def token_create(
    scope: list[str] = typer.Option(..., "--scope", help="Scope (repeatable), e.g. records:read, search."),
    days: int = typer.Option(30, help="Days until it expires."),
    name: str = typer.Option(None, help="A label for the token."),
    user: str = typer.Option(None, help="Administrators may create a token for another user."),
) -> None:
    """Create an API token for the acting user; it is printed once."""
    from fusionhub.policy.auth import create_api_token

    actor = acting_actor()
    owner = user or actor.username
    if owner != actor.username and not actor.has("administrator"):
        fail("only administrators create tokens for other users", 5)
    with domain_errors():
        token = create_api_token(STATE.store(), owner, scope, timedelta(days=days), name=name, by=actor)
    typer.echo(token)


@token_app.command("list")
def token_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List API tokens (administrators see all, others their own)."""
    from fusionhub.policy.auth import list_api_tokens

    actor = acting_actor()
    rows = list_api_tokens(STATE.store(), None if actor.has("administrator") else actor.username)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = "revoked" if r["revoked"] else f"expires {r['expires_at']}"
        typer.echo(f"{r['id']}\t{r['user']}\t{','.join(r['scopes'])}\t{state}\t{r['name'] or ''}")


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke an API token by id."""
    from fusionhub.policy.auth import list_api_tokens, revoke_api_token

    actor = acting_actor()
    mine = {r["id"] for r in list_api_tokens(STATE.store(), actor.username)}
    if token_id not in mine and not actor.has("administrator"):
        fail(f"token {token_id} is not yours", 5)
    with domain_errors():
        revoke_api_token(STATE.store(), token_id, by=actor)
    typer.echo(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
