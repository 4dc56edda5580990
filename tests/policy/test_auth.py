"""Passwords, lockout, second factor, training lapse, idle sessions and API tokens.

The clock is injected (``now=``); nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from fusionhub.policy import auth
from fusionhub.policy.audit import verify
from fusionhub.policy.identity import add_user, disable_user, set_training
from fusionhub.store import Store
from tests import factories
from tests.policy.conftest import PASSWORD, T0


def _enrolled(store: Store, name: str = "ana", roles: tuple[str, ...] = ("analyst",)) -> str:
    factories.agency(store, "PD1")
    add_user(store, name, "PD1", list(roles), password=PASSWORD, training_date=T0, now=T0)
    secret, uri = auth.enroll_totp(store, name)
    assert uri.startswith("otpauth://totp/")
    auth.confirm_totp(store, name, pyotp.TOTP(secret).at(T0), now=T0)
    return secret


def _code(secret: str, when: object) -> str:
    return pyotp.TOTP(secret).at(when)  # type: ignore[arg-type]


def test_password_is_argon2id_and_login_needs_totp(store: Store) -> None:
    secret = _enrolled(store)
    from sqlalchemy import select

    from fusionhub.store import tables as t

    with store.connect() as conn:
        stored = conn.execute(select(t.app_user.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    later = T0 + timedelta(minutes=5)
    with pytest.raises(auth.MfaRequired) as needed:
        auth.login(store, "ana", PASSWORD, None, now=later)
    assert needed.value.enrol is False
    actor = auth.login(store, "ana", PASSWORD, _code(secret, later), ip="10.0.0.1", now=later)
    assert actor.username == "ana" and actor.training_current
    # The same code is not accepted twice.
    with pytest.raises(auth.LoginFailed):
        auth.login(store, "ana", PASSWORD, _code(secret, later), now=later + timedelta(seconds=1))


def test_unenrolled_reader_must_enrol(store: Store) -> None:
    factories.agency(store, "PD1")
    add_user(store, "bo", "PD1", ["field-user"], password=PASSWORD, now=T0)
    with pytest.raises(auth.MfaRequired) as needed:
        auth.login(store, "bo", PASSWORD, None, now=T0)
    assert needed.value.enrol is True


def test_administrator_without_records_needs_no_totp(store: Store) -> None:
    factories.agency(store, "PD1")
    add_user(store, "root", "PD1", ["administrator"], password=PASSWORD, now=T0)
    assert auth.login(store, "root", PASSWORD, None, now=T0).has("administrator")


def test_five_failures_lock_for_ten_minutes(store: Store) -> None:
    secret = _enrolled(store)
    for attempt in range(4):
        with pytest.raises(auth.LoginFailed):
            auth.login(store, "ana", "wrong password!!", None, now=T0 + timedelta(seconds=attempt))
    with pytest.raises(auth.AccountLocked):
        auth.login(store, "ana", "wrong password!!", None, now=T0 + timedelta(seconds=5))
    # Even the right password and code are refused while locked.
    at = T0 + timedelta(minutes=9)
    with pytest.raises(auth.AccountLocked):
        auth.login(store, "ana", PASSWORD, _code(secret, at), now=at)
    at = T0 + timedelta(minutes=10, seconds=6)
    assert auth.login(store, "ana", PASSWORD, _code(secret, at), now=at).username == "ana"
    assert verify(store).ok


def test_wrong_totp_counts_as_failure(store: Store) -> None:
    _enrolled(store)
    for attempt in range(4):
        with pytest.raises(auth.LoginFailed):
            auth.login(store, "ana", PASSWORD, "000000", now=T0 + timedelta(minutes=1, seconds=attempt))
    with pytest.raises(auth.AccountLocked):
        auth.login(store, "ana", PASSWORD, "000000", now=T0 + timedelta(minutes=2))


def test_unknown_user_fails_like_a_wrong_password(store: Store) -> None:
    with pytest.raises(auth.LoginFailed) as failed:
        auth.login(store, "nobody", PASSWORD, None, now=T0)
    assert str(failed.value) == "wrong username or password"


def test_training_lapse_refuses_login_and_records(store: Store) -> None:
    secret = _enrolled(store)
    at = T0 + timedelta(days=366)
    with pytest.raises(auth.TrainingLapsed):
        auth.login(store, "ana", PASSWORD, _code(secret, at), now=at)
    set_training(store, "ana", at, by="root", now=at)
    at2 = at + timedelta(minutes=1)
    assert auth.login(store, "ana", PASSWORD, _code(secret, at2), now=at2).training_current


def test_session_locks_after_thirty_minutes_idle(store: Store) -> None:
    secret = _enrolled(store)
    at = T0 + timedelta(minutes=1)
    actor = auth.login(store, "ana", PASSWORD, _code(secret, at), now=at)
    token = auth.create_session(store, actor, now=T0)
    assert auth.session_actor(store, token, now=T0 + timedelta(minutes=29)).username == "ana"
    # Activity touched last-seen: another 29 minutes is still fine.
    assert auth.session_actor(store, token, now=T0 + timedelta(minutes=58)).username == "ana"
    with pytest.raises(auth.SessionExpired):
        auth.session_actor(store, token, now=T0 + timedelta(minutes=88, seconds=1))
    with pytest.raises(auth.SessionExpired):  # stays ended
        auth.session_actor(store, token, now=T0 + timedelta(minutes=89))


def test_end_session_and_disable_stop_sessions(store: Store) -> None:
    secret = _enrolled(store)
    at = T0 + timedelta(minutes=1)
    actor = auth.login(store, "ana", PASSWORD, _code(secret, at), now=at)
    one = auth.create_session(store, actor, now=T0)
    two = auth.create_session(store, actor, now=T0)
    auth.end_session(store, one, now=T0)
    with pytest.raises(auth.SessionExpired):
        auth.session_actor(store, one, now=T0)
    disable_user(store, "ana", by="root", now=T0)
    with pytest.raises(auth.SessionExpired):
        auth.session_actor(store, two, now=T0)


def test_api_token_scope_expiry_and_revocation(store: Store) -> None:
    _enrolled(store)
    token = auth.create_api_token(store, "ana", ["search"], timedelta(days=7), now=T0)
    assert auth.token_actor(store, token, "search", now=T0 + timedelta(days=6)).username == "ana"
    with pytest.raises(auth.TokenInvalid, match="not scoped"):
        auth.token_actor(store, token, "export", now=T0)
    with pytest.raises(auth.TokenInvalid, match="expired"):
        auth.token_actor(store, token, "search", now=T0 + timedelta(days=7))
    second = auth.create_api_token(store, "ana", ["records:read"], timedelta(days=1), now=T0)
    token_id = int(second.split("_")[1])
    auth.revoke_api_token(store, token_id, now=T0)
    with pytest.raises(auth.TokenInvalid, match="revoked"):
        auth.token_actor(store, second, "records:read", now=T0)
    with pytest.raises(auth.TokenInvalid):
        auth.token_actor(store, second[:-2] + "xx", "records:read", now=T0)
    with pytest.raises(auth.TokenInvalid):
        auth.create_api_token(store, "ana", ["everything"], timedelta(days=1), now=T0)


def test_every_login_is_audited(store: Store) -> None:
    secret = _enrolled(store)
    with pytest.raises(auth.LoginFailed):
        auth.login(store, "ana", "not the password", None, ip="10.1.1.1", now=T0)
    auth.login(store, "ana", PASSWORD, _code(secret, T0 + timedelta(minutes=1)), now=T0 + timedelta(minutes=1))
    auditor = factories.user(store, "aud", roles=("auditor",))
    from fusionhub.policy.audit import query

    actions = [e.action for e in query(store, auditor, user="ana", action="login.*")]
    assert actions == ["login.failure", "login.success"]


def test_a_login_name_with_control_characters_fails_like_an_unknown_user(store: Store) -> None:
    _enrolled(store)
    # PostgreSQL text cannot hold NUL: the attempt must still be a clean, audited failure.
    for name in ("\x00", "ana\x00", "an\na"):
        with pytest.raises(auth.LoginFailed):
            auth.login(store, name, PASSWORD, None, now=T0)
    auditor = factories.user(store, "aud", roles=("auditor",))
    from fusionhub.policy.audit import query

    events = query(store, auditor, action="login.failure")
    assert {e.username for e in events} == {"\\x00", "ana\\x00", "an\\na"}
