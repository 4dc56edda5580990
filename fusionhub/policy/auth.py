"""Authentication: argon2id passwords, TOTP second factor, lockout, idle-locked sessions
and scoped, expiring, revocable API tokens.

Every function takes an optional ``now`` so that tests inject the clock instead of
sleeping. Every login (success and failure) is audited in the same transaction as the
counters it changes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, insert, select, update

from fusionhub.policy.actor import RECORD_READERS, Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.identity import UnknownUser, _actor_from_row, actor_row, aware, training_current
from fusionhub.policy.rules import load_policy
from fusionhub.store import Store, utcnow
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t

#: What an API token may be scoped to.
SCOPES = (
    "records:read",
    "search",
    "records:write",
    "export",
    "audit:read",
    "users:manage",
    "retention",
    "redress",
)
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("fusionhub-no-such-user")
ISSUER = "FusionHub"


class AuthError(Exception):
    """Authentication failed; the message is safe to show."""


class LoginFailed(AuthError):
    def __init__(self, reason: str = "wrong username or password") -> None:
        super().__init__(reason)
        self.reason = reason


class AccountLocked(AuthError):
    def __init__(self, until: datetime) -> None:
        super().__init__(f"the account is locked until {until.isoformat(timespec='minutes')} after failed logins")
        self.until = until


class MfaRequired(AuthError):
    """The password was right; a TOTP code (``enrol`` False) or enrolment (``enrol`` True) is needed."""

    def __init__(self, enrol: bool) -> None:
        super().__init__("enrol an authenticator app first" if enrol else "enter the code from your authenticator app")
        self.enrol = enrol


class TrainingLapsed(AuthError):
    def __init__(self, trained: datetime | None) -> None:
        when = trained.date().isoformat() if trained else "never"
        super().__init__(f"P/CRCL training is not current (last: {when}); records stay closed until it is renewed")
        self.trained = trained


class SessionExpired(AuthError):
    pass


class TokenInvalid(AuthError):
    pass


# -- passwords ---------------------------------------------------------------------
def hash_password(password: str) -> str:
    if len(password) < 12:
        raise AuthError("a password has at least 12 characters")
    return _hasher.hash(password)


def _password_ok(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(
    store: Store, username: str, password: str, *, by: Actor | str | None = None, now: datetime | None = None
) -> None:
    hashed = hash_password(password)
    now = now or utcnow()
    with store.begin() as conn:
        row = actor_row(conn, username)
        if row is None:
            raise UnknownUser(f"no user {username!r}")
        conn.execute(
            update(t.app_user)
            .where(t.app_user.c.id == row.id)
            .values(password_hash=hashed, failed_logins=0, locked_until=None)
        )
        _security(conn, row.id, password_changed_at=now)
        actor = by if by is not None else username
        record_event(
            conn,
            actor if isinstance(actor, str) else actor.username,
            "user.set-password",
            f"user:{username}",
            {},
            now=now,
        )


def _security(conn: Connection, user_id: int, **values: Any) -> None:
    sec = pt.user_security
    if conn.execute(select(sec.c.user_id).where(sec.c.user_id == user_id)).first():
        if values:
            conn.execute(update(sec).where(sec.c.user_id == user_id).values(**values))
    else:
        conn.execute(insert(sec).values(user_id=user_id, **values))


def mfa_required(roles: frozenset[str] | list[str]) -> bool:
    return bool(set(roles) & set(load_policy().setting("mfa_roles")))


# -- TOTP --------------------------------------------------------------------------
def enroll_totp(store: Store, username: str) -> tuple[str, str]:
    """A new secret and its otpauth:// URI; active once :func:`confirm_totp` accepts a code."""
    secret = pyotp.random_base32()
    with store.begin() as conn:
        row = actor_row(conn, username)
        if row is None or not row.active:
            raise UnknownUser(f"no active user {username!r}")
        _security(conn, row.id, totp_pending=secret)
        record_event(conn, username, "user.mfa-enrol", f"user:{username}", {})
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    return secret, uri


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    code = code.strip().replace(" ", "")
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def confirm_totp(store: Store, username: str, code: str, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    with store.begin() as conn:
        row = actor_row(conn, username)
        if row is None or not row.active:
            raise UnknownUser(f"no active user {username!r}")
        pending = conn.execute(
            select(pt.user_security.c.totp_pending).where(pt.user_security.c.user_id == row.id)
        ).scalar()
        step = _totp_step(pending, code, now) if pending else None
        if step is None:
            record_event(conn, username, "user.mfa-confirm", f"user:{username}", {"ok": False}, now=now)
            failed = True
        else:
            conn.execute(update(t.app_user).where(t.app_user.c.id == row.id).values(totp_secret=pending))
            _security(conn, row.id, totp_pending=None, totp_confirmed_at=now, last_totp_step=step)
            record_event(conn, username, "user.mfa-confirm", f"user:{username}", {"ok": True}, now=now)
            failed = False
    if failed:
        raise LoginFailed("that code does not match the enrolment; try the current code")


# -- login -------------------------------------------------------------------------
def login(
    store: Store,
    username: str,
    password: str,
    totp_code: str | None,
    ip: str | None = None,
    *,
    now: datetime | None = None,
) -> Actor:
    """Check password, lockout, second factor and training; audit the outcome."""
    if not username.isprintable():
        # No account name has control characters (PostgreSQL text cannot even hold NUL):
        # the attempt fails like an unknown user and is audited under the escaped text.
        username = username.encode("unicode_escape").decode("ascii")
    now = now or utcnow()
    policy = load_policy()
    attempts = int(policy.setting("lockout_attempts"))
    lock_for = timedelta(minutes=int(policy.setting("lockout_minutes")))
    outcome: AuthError | None = None
    actor: Actor | None = None
    with store.begin() as conn:
        row = actor_row(conn, username)
        subject = f"user:{username}"
        if row is None or not row.active:
            _password_ok(None, password)  # same work as a real check: no user enumeration by timing
            outcome = LoginFailed()
            record_event(
                conn, username, "login.failure", subject, {"reason": "unknown or disabled user"}, ip=ip, now=now
            )
        elif row.locked_until is not None and aware(row.locked_until) > now:  # type: ignore[operator]
            outcome = AccountLocked(aware(row.locked_until))  # type: ignore[arg-type]
            record_event(conn, username, "login.failure", subject, {"reason": "account locked"}, ip=ip, now=now)
        else:
            failure: str | None = None
            step: int | None = None
            if not _password_ok(row.password_hash, password):
                failure = "wrong password"
            elif mfa_required(row.roles or []):
                if not row.totp_secret:
                    outcome = MfaRequired(enrol=True)
                elif not totp_code:
                    outcome = MfaRequired(enrol=False)
                else:
                    step = _totp_step(row.totp_secret, totp_code, now)
                    last = conn.execute(
                        select(pt.user_security.c.last_totp_step).where(pt.user_security.c.user_id == row.id)
                    ).scalar()
                    if step is None or (last is not None and step <= int(last)):
                        failure = "wrong or reused authenticator code"
            if failure:
                count = int(row.failed_logins or 0) + 1
                values: dict[str, Any] = {"failed_logins": count}
                if count >= attempts:
                    values = {"failed_logins": 0, "locked_until": now + lock_for}
                    outcome = AccountLocked(now + lock_for)
                else:
                    outcome = LoginFailed()
                conn.execute(update(t.app_user).where(t.app_user.c.id == row.id).values(**values))
                record_event(
                    conn,
                    username,
                    "login.failure",
                    subject,
                    {"reason": failure, "failed_logins": count, "locked": "locked_until" in values},
                    ip=ip,
                    now=now,
                )
            elif outcome is not None:  # MFA still needed: not a failure, not a login either
                record_event(conn, username, "login.mfa-needed", subject, {"enrol": outcome.enrol}, ip=ip, now=now)  # type: ignore[attr-defined]
            else:
                trained = aware(row.training_date)
                if set(row.roles or []) & RECORD_READERS and not training_current(trained, now):
                    outcome = TrainingLapsed(trained)
                    record_event(
                        conn, username, "login.failure", subject, {"reason": "training lapsed"}, ip=ip, now=now
                    )
                else:
                    conn.execute(
                        update(t.app_user).where(t.app_user.c.id == row.id).values(failed_logins=0, locked_until=None)
                    )
                    if step is not None:
                        _security(conn, row.id, last_totp_step=step)
                    record_event(conn, username, "login.success", subject, {}, ip=ip, now=now)
                    actor = _actor_from_row(row, now)
    if outcome is not None:
        raise outcome
    assert actor is not None
    return actor


# -- sessions ----------------------------------------------------------------------
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(store: Store, actor: Actor, *, ip: str | None = None, now: datetime | None = None) -> str:
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    with store.begin() as conn:
        conn.execute(
            insert(pt.user_session).values(
                token_hash=_digest(token), user_id=actor.user_id, created_at=now, last_seen=now, ip=ip
            )
        )
    return token


def session_actor(store: Store, token: str, *, now: datetime | None = None) -> Actor:
    """The session's user; touches last-seen. Locked after the configured idle time."""
    now = now or utcnow()
    idle = timedelta(minutes=int(load_policy().setting("session_idle_minutes")))
    s = pt.user_session.c
    expired: str | None = None
    actor: Actor | None = None
    with store.begin() as conn:
        session = conn.execute(select(pt.user_session).where(s.token_hash == _digest(token))).first()
        if session is None or session.ended_at is not None:
            expired = "the session has ended; sign in again"
        elif now - aware(session.last_seen) > idle:  # type: ignore[operator]
            conn.execute(update(pt.user_session).where(s.id == session.id).values(ended_at=now, end_reason="idle"))
            expired = f"the session locked after {int(idle.total_seconds() // 60)} minutes idle; sign in again"
        else:
            user = conn.execute(select(t.app_user.c.username).where(t.app_user.c.id == session.user_id)).scalar()
            row = actor_row(conn, str(user))
            if row is None or not row.active:
                conn.execute(
                    update(pt.user_session).where(s.id == session.id).values(ended_at=now, end_reason="user disabled")
                )
                expired = "the account is disabled"
            else:
                conn.execute(update(pt.user_session).where(s.id == session.id).values(last_seen=now))
                actor = _actor_from_row(row, now)
    if expired:
        raise SessionExpired(expired)
    assert actor is not None
    return actor


def end_session(store: Store, token: str, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    s = pt.user_session.c
    with store.begin() as conn:
        session = conn.execute(select(s.id, s.user_id).where(s.token_hash == _digest(token))).first()
        if session is None:
            return
        conn.execute(
            update(pt.user_session)
            .where(s.id == session.id, s.ended_at.is_(None))
            .values(ended_at=now, end_reason="signed out")
        )
        user = conn.execute(select(t.app_user.c.username).where(t.app_user.c.id == session.user_id)).scalar()
        record_event(conn, str(user), "logout", f"user:{user}", {}, now=now)


# -- API tokens --------------------------------------------------------------------
def create_api_token(
    store: Store,
    username: str,
    scopes: list[str],
    expires_in: timedelta,
    *,
    name: str | None = None,
    by: Actor | str | None = None,
    now: datetime | None = None,
) -> str:
    """A new token ``fht_<id>_<secret>``; only its hash is stored. Shown once."""
    now = now or utcnow()
    for scope in scopes:
        if scope not in SCOPES:
            raise TokenInvalid(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}")
    if not scopes:
        raise TokenInvalid("a token needs at least one scope")
    longest = timedelta(days=int(load_policy().setting("api_token_max_days")))
    if expires_in <= timedelta(0) or expires_in > longest:
        raise TokenInvalid(f"a token expires within {longest.days} days")
    secret = secrets.token_urlsafe(32)
    with store.begin() as conn:
        row = actor_row(conn, username)
        if row is None or not row.active:
            raise UnknownUser(f"no active user {username!r}")
        token_id = conn.execute(
            insert(pt.api_token).values(
                token_hash=_digest(secret),
                user_id=row.id,
                name=name,
                scopes=sorted(set(scopes)),
                created_at=now,
                expires_at=now + expires_in,
            )
        ).inserted_primary_key
        assert token_id is not None
        actor = by if by is not None else username
        record_event(
            conn,
            actor if isinstance(actor, str) else actor.username,
            "token.create",
            f"user:{username}",
            {"token_id": int(token_id[0]), "scopes": sorted(set(scopes)), "expires_at": (now + expires_in).isoformat()},
            now=now,
        )
    return f"fht_{int(token_id[0])}_{secret}"


def _parse_token(token: str) -> tuple[int, str]:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "fht" or not parts[1].isdigit():
        raise TokenInvalid("not a FusionHub API token")
    return int(parts[1]), parts[2]


def token_actor(store: Store, token: str, scope: str, *, now: datetime | None = None) -> Actor:
    now = now or utcnow()
    token_id, secret = _parse_token(token)
    k = pt.api_token.c
    with store.begin() as conn:
        row = conn.execute(select(pt.api_token).where(k.id == token_id)).first()
        if row is None or not hmac.compare_digest(row.token_hash, _digest(secret)):
            raise TokenInvalid("unknown API token")
        if row.revoked_at is not None:
            raise TokenInvalid("the API token was revoked")
        if aware(row.expires_at) <= now:  # type: ignore[operator]
            raise TokenInvalid("the API token has expired")
        if scope not in (row.scopes or []):
            raise TokenInvalid(f"the API token is not scoped for {scope}")
        user = conn.execute(select(t.app_user.c.username).where(t.app_user.c.id == row.user_id)).scalar()
        user_row = actor_row(conn, str(user))
        if user_row is None or not user_row.active:
            raise TokenInvalid("the token's user is disabled")
        conn.execute(update(pt.api_token).where(k.id == token_id).values(last_used_at=now))
    return _actor_from_row(user_row, now)


def revoke_api_token(
    store: Store, token_id: int, *, by: Actor | str | None = None, now: datetime | None = None
) -> None:
    now = now or utcnow()
    k = pt.api_token.c
    with store.begin() as conn:
        row = conn.execute(select(k.id, k.user_id).where(k.id == token_id)).first()
        if row is None:
            raise TokenInvalid(f"no API token {token_id}")
        conn.execute(update(pt.api_token).where(k.id == token_id, k.revoked_at.is_(None)).values(revoked_at=now))
        user = conn.execute(select(t.app_user.c.username).where(t.app_user.c.id == row.user_id)).scalar()
        who = by if by is not None else str(user)
        record_event(
            conn,
            who if isinstance(who, str) else who.username,
            "token.revoke",
            f"user:{user}",
            {"token_id": token_id},
            now=now,
        )


def list_api_tokens(store: Store, username: str | None = None) -> list[dict[str, Any]]:
    k = pt.api_token.c
    stmt = select(pt.api_token, t.app_user.c.username).join(t.app_user, t.app_user.c.id == k.user_id).order_by(k.id)
    if username:
        stmt = stmt.where(t.app_user.c.username == username)
    with store.connect() as conn:
        return [
            {
                "id": r.id,
                "user": r.username,
                "name": r.name,
                "scopes": r.scopes,
                "created_at": aware(r.created_at).isoformat(),  # type: ignore[union-attr]
                "expires_at": aware(r.expires_at).isoformat(),  # type: ignore[union-attr]
                "revoked": r.revoked_at is not None,
            }
            for r in conn.execute(stmt)
        ]
