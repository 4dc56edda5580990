"""Helpers that read like policy for the API and browser tests: accounts that can log in."""

from __future__ import annotations

import pyotp
import pytest

# The policy's authentication lands from its own branch; until then these tests skip.
auth = pytest.importorskip("fusionhub.policy.auth")

from fusionhub.store import Store  # noqa: E402
from tests import factories  # noqa: E402

PASSWORD = "correct horse battery staple"


def account(
    store: Store,
    name: str,
    roles: tuple[str, ...] = ("analyst",),
    agency_code: str = "PD1",
    kind: str = "law-enforcement",
) -> str:
    """A user with a password and a confirmed TOTP second factor; returns the TOTP secret."""
    factories.user(store, name, agency_code, roles, kind)
    auth.set_password(store, name, PASSWORD)
    secret, _uri = auth.enroll_totp(store, name)
    auth.confirm_totp(store, name, pyotp.TOTP(secret).now())
    return str(secret)


def code(secret: str) -> str:
    return str(pyotp.TOTP(secret).now())
