"""Workspaces, users (argon2-hashed passwords), API tokens and dashboard sessions (of both, only a SHA-256 of
the secret is stored)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from socap.auth.models import ApiToken, User, WebSession, Workspace
from socap.clock import Clock, ensure_utc

DEFAULT_WORKSPACE = "default"
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "socap_"
SESSION_DAYS = 14
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")  # (PostgreSQL cannot even compare NUL)

_hasher = PasswordHasher()
# verifying against this keeps an unknown e-mail as slow as a wrong password (no user enumeration by timing)
_DUMMY_HASH = _hasher.hash("socap-dummy-password")


class AuthError(ValueError):
    """A refused user or token operation, with a message fit to show."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: every campaign read or write is scoped to ``workspace_id``."""

    user_id: int
    email: str
    workspace_id: int
    workspace_name: str


def get_or_create_workspace(session: Session, *, name: str = DEFAULT_WORKSPACE, clock: Clock) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.name == name))
    if workspace is None:
        workspace = Workspace(name=name, created_at=clock.now())
        session.add(workspace)
        session.flush()
    return workspace


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    if not EMAIL_RE.match(value) or len(value) > 320:
        raise AuthError(f"not an e-mail address: {email!r}")
    return value


def create_user(session: Session, *, email: str, password: str, workspace: str = DEFAULT_WORKSPACE,
                clock: Clock) -> User:
    address = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise AuthError(f"a user {address} already exists")
    ws = get_or_create_workspace(session, name=workspace.strip() or DEFAULT_WORKSPACE, clock=clock)
    user = User(workspace_id=ws.id, email=address, password_hash=_hasher.hash(password), created_at=clock.now())
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, *, email: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise AuthError(f"no user {email}")
    user.password_hash = _hasher.hash(password)
    # whoever was signed in with the old password is signed out
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def principal(session: Session, user: User) -> Principal:
    ws = session.get(Workspace, user.workspace_id)
    return Principal(user_id=user.id, email=user.email, workspace_id=user.workspace_id,
                     workspace_name=ws.name if ws else "")


def authenticate(session: Session, *, email: str, password: str, clock: Clock) -> Principal | None:
    """The user's principal when the password matches, else None (same cost either way)."""
    try:
        address = normalise_email(email)
    except AuthError:
        address = ""
    user = session.scalar(select(User).where(User.email == address)) if address else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = clock.now()
    return principal(session, user)


def load_principal(session: Session, user_id: int) -> Principal | None:
    user = session.get(User, user_id)
    return principal(session, user) if user is not None else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, email: str, name: str, clock: Clock) -> tuple[ApiToken, str]:
    """A new API token for the user; the plain token is returned once and never stored."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise AuthError(f"no user {email}")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip() or "token", token_hash=_digest(plain),
                     created_at=clock.now())
    session.add(token)
    session.flush()
    return token, plain


def verify_token(session: Session, plain: str, *, clock: Clock) -> Principal | None:
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    if token is None:
        return None
    token.last_used_at = clock.now()
    user = session.get(User, token.user_id)
    return principal(session, user) if user is not None else None


def revoke_token(session: Session, *, token_id: int, workspace_id: int) -> bool:
    owned = select(User.id).where(User.workspace_id == workspace_id)
    result = session.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id.in_(owned)))
    return bool(result.rowcount)


def list_users(session: Session) -> list[tuple[User, str]]:
    return [(u, w) for u, w in session.execute(
        select(User, Workspace.name).join(Workspace, Workspace.id == User.workspace_id).order_by(User.id))]


def start_session(session: Session, *, user_id: int, clock: Clock, days: float = SESSION_DAYS) -> str:
    """A new dashboard session for the user; the returned id goes into the (signed) cookie, only its hash
    is stored. Expired sessions of everybody are swept out on the way."""
    now = clock.now()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    plain = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_digest(plain), user_id=user_id, created_at=now,
                           expires_at=now + timedelta(days=days)))
    session.flush()
    return plain


def session_principal(session: Session, plain: str, *, now: datetime) -> Principal | None:
    """Who the session id belongs to, or None when it was never issued, was ended or has expired."""
    found = session.get(WebSession, _digest(plain))
    if found is None or ensure_utc(found.expires_at) <= now:
        return None
    return load_principal(session, found.user_id)


def end_session(session: Session, plain: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id_hash == _digest(plain)))
