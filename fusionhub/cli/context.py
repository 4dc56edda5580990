"""Shared CLI plumbing: the store and acting user chosen by global options, and error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer

from fusionhub.store import Store, StoreError

EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_UNREADABLE = 4
EXIT_DENIED = 5
EXIT_ERROR = 1


@dataclass
class CliState:
    store_url: str | None = None
    user: str | None = None
    _store: Store | None = None

    def store(self, initialised: bool = True) -> Store:
        if self._store is None:
            self._store = Store(self.store_url)
        if initialised:
            try:
                self._store.require_initialised()
            except StoreError as exc:
                fail(str(exc))
        return self._store


STATE = CliState()


def global_options(
    store: str = typer.Option(
        None, "--store", envvar="FUSIONHUB_STORE", help="Store URL (sqlite:///file.db or postgresql://...)."
    ),
    as_user: str = typer.Option(
        None, "--as", envvar="FUSIONHUB_USER", help="Act as this named user (audited as them)."
    ),
) -> None:
    """FusionHub command line."""
    STATE.store_url = store
    STATE.user = as_user
    STATE._store = None


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def acting_actor() -> Any:
    from fusionhub.policy.identity import UnknownUser, actor_for

    if not STATE.user:
        fail("name the user you act as: --as USER or FUSIONHUB_USER", EXIT_USAGE)
    try:
        return actor_for(STATE.store(), STATE.user)
    except UnknownUser as exc:
        fail(str(exc), EXIT_DENIED)


def managing_actor() -> Any:
    """The administrator a user-management command acts as.

    ``--as`` must name an administrator. Only while the store has no administrator at
    all may the operator bootstrap without one; those events are audited as
    ``operator:<login>`` (shell access to the store is the operator's trust boundary).
    """
    from fusionhub.policy.identity import has_administrator

    if STATE.user:
        actor = acting_actor()
        if not actor.has("administrator"):
            fail(f"{actor.username} is not an administrator; only administrators manage users", EXIT_DENIED)
        return actor
    if has_administrator(STATE.store()):
        fail("name the administrator you act as: --as USER or FUSIONHUB_USER", EXIT_USAGE)
    return None


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=None, default=str))


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn the domain's expected errors into one-line messages with exit codes."""
    from fusionhub.ingest.errors import ProfileError, UnreadableFile
    from fusionhub.ingest.sources import RegistryError
    from fusionhub.model.types import InvalidValue
    from fusionhub.policy.audit import AuditError, AuditForbidden
    from fusionhub.policy.auth import AuthError
    from fusionhub.policy.identity import NotAuthorized, UnknownUser
    from fusionhub.policy.reader import AccessDenied
    from fusionhub.policy.rules import PolicyError

    try:
        yield
    except UnreadableFile as exc:
        fail(str(exc), EXIT_UNREADABLE)
    except (AccessDenied, NotAuthorized, AuditForbidden, AuthError) as exc:
        fail(str(exc), EXIT_DENIED)
    except (ProfileError, RegistryError, InvalidValue, StoreError, UnknownUser, AuditError, PolicyError) as exc:
        fail(str(exc))


def is_terminal() -> bool:
    return sys.stderr.isatty()


def parse_when(text: str | None) -> datetime | None:
    """An ISO 8601 date or time from the command line; naive times are taken as UTC."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"not a date or time (ISO 8601): {text!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)
