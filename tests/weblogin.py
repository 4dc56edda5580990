"""Helpers that read like policy for the API and browser tests: accounts that can log in.

A TOTP code is accepted once (replay protection), so accounts are enrolled on a clock
two days back and each scripted login takes the next 30-second step of that past
clock: the real current code stays free for the tests that log in over HTTP.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pyotp
import pytest

# The policy's authentication lands from its own branch; until then these tests skip.
auth = pytest.importorskip("fusionhub.policy.auth")

from fusionhub.store import Store, utcnow  # noqa: E402
from tests import factories  # noqa: E402

PASSWORD = "correct horse battery staple"
_EPOCH = utcnow() - timedelta(days=2)
_steps = itertools.count(1)


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
    auth.confirm_totp(store, name, pyotp.TOTP(secret).at(_EPOCH), now=_EPOCH)
    return str(secret)


def code(secret: str) -> str:
    """The current code, for logins over HTTP."""
    return str(pyotp.TOTP(secret).now())


def session(store: Store, name: str, secret: str) -> str:
    """Log ``name`` in through the policy (password and a fresh code) and open a session."""
    when = _EPOCH + timedelta(seconds=30 * next(_steps))
    actor = auth.login(store, name, PASSWORD, pyotp.TOTP(secret).at(when), now=when)
    return str(auth.create_session(store, actor))
