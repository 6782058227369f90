"""Step-up confirmation: the decisions that bind (签发 …) wait for a passkey or a TOTP code.

Chat identity alone is weak for a signature (a phone left unlocked, a session stolen). A
feature that meets a binding step opens a *request* here instead of deciding: who is asked,
which record and step, the opinion they gave, an expiry; the web page (server/) completes it
once the person proves presence with a passkey (WebAuthn) or a TOTP code. The request is
single use, and only a hash of its token (the secret in the link) is stored.

This module is the shared ground between the feature that asks and the page that confirms:
tables and small state changes only; the WebAuthn and TOTP checks live in server/.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from records.clock import Clock, as_utc
from records.db import Base, UTCDateTime
from records.models import BigId

TOKEN_BYTES = 24
# How the audit entry names a TOTP confirmation (a passkey is named by its credential id).
TOTP = "totp"


@dataclass(frozen=True)
class Refusal:
    """Why a confirmed request could not be done: the /confirm page says it in both languages
    (its Chinese line and its English line), whatever language the request was made in."""

    zh: str
    en: str

    @classmethod
    def of(cls, said: Callable[[str], str]) -> Refusal:
        """`said(lang)`: the reason in that language."""
        return cls(zh=said("zh"), en=said("en"))

    def in_lang(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class StepUpRequest(Base):
    """A binding decision waiting for its confirmation on the phone."""

    __tablename__ = "stepup_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "approval"
    record_id: Mapped[int] = mapped_column(BigId)
    # What the page shows: "A12", the record's title, the step's name ("签发").
    subject: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text, default="")
    step: Mapped[str] = mapped_column(String(64), default="")
    step_position: Mapped[int] = mapped_column(Integer, default=0)
    opinion: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The WebAuthn challenge handed out for this request (base64url); cleared when an answer
    # is checked, so that one challenge is answered at most once.
    challenge: Mapped[str | None] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # What else was asked, for the kinds whose decision is more than a step (an incident's
    # close: the rooms to tell; a declaration: grade, title, class …), as the feature wrote it.
    details: Mapped[dict[str, object] | None] = mapped_column(JSON)


class PasskeyCredential(Base):
    """A passkey registered from the /security page (WebAuthn public key credential)."""

    __tablename__ = "stepup_passkeys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    credential_id: Mapped[str] = mapped_column(String(1024))  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE
    sign_count: Mapped[int] = mapped_column(BigId, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)  # WebAuthn transport names
    name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_stepup_passkeys_credential_id", "credential_id", unique=True),)


class TotpSecret(Base):
    """A person's TOTP secret (the fallback for phones without passkeys)."""

    __tablename__ = "stepup_totp"

    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Null until a first code proves the authenticator app holds the secret.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time step of the last code accepted: a code is never accepted twice.
    last_step: Mapped[int] = mapped_column(BigId, default=0)


class RegistrationChallenge(Base):
    """The challenge of a passkey registration under way (one per person; the newest wins)."""

    __tablename__ = "stepup_registrations"

    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    challenge: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def open_request(
    session: AsyncSession,
    *,
    user_id: str,
    kind: str,
    record_id: int,
    subject: str,
    title: str,
    step: str,
    step_position: int,
    opinion: str,
    lang: str,
    minutes: int,
    clock: Clock,
    details: dict[str, object] | None = None,
    token: str | None = None,
) -> str:
    """Store a request and return its token (the secret part of the link). `token`: one the
    caller derived itself (the board's, from its idempotency key), else a random one."""
    now = clock.now()
    # Requests a day past their expiry help nobody; keep the table small.
    await session.execute(delete(StepUpRequest).where(StepUpRequest.expires_at < now - timedelta(days=1)))
    token = token or secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        StepUpRequest(
            token_hash=token_hash(token),
            user_id=user_id,
            kind=kind,
            record_id=record_id,
            subject=subject,
            title=title,
            step=step,
            step_position=step_position,
            opinion=opinion,
            lang=lang,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
            failures=0,
            details=details,
        )
    )
    await session.flush()
    return token


async def find_request(session: AsyncSession, token: str, *, for_update: bool = False) -> StepUpRequest | None:
    if not token or len(token) > 128:
        return None
    query = select(StepUpRequest).where(StepUpRequest.token_hash == token_hash(token))
    if for_update:
        query = query.with_for_update()
    found: StepUpRequest | None = await session.scalar(query)
    return found


def request_state(request: StepUpRequest, now: datetime, max_failures: int) -> str:
    """ "open", or why the request can no longer be confirmed: "used", "expired", "locked"."""
    if request.used_at is not None:
        return "used"
    if now >= as_utc(request.expires_at):
        return "expired"
    if request.failures >= max_failures:
        return "locked"
    return "open"


async def passkeys_of(session: AsyncSession, user_id: str) -> list[PasskeyCredential]:
    rows = await session.scalars(
        select(PasskeyCredential).where(PasskeyCredential.user_id == user_id).order_by(PasskeyCredential.id)
    )
    return list(rows)


async def totp_of(session: AsyncSession, user_id: str) -> TotpSecret | None:
    found: TotpSecret | None = await session.get(TotpSecret, user_id, with_for_update=True)
    return found


# The page that confirms a request (server/), and the link the chat answers with.
CONFIRM_PATH = "/confirm/"


def confirm_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{CONFIRM_PATH}{token}"


# Adding a passkey or a TOTP app while one is registered asks for one of them first (a stolen
# session alone must not enrol the thief's own authenticator), and so does removing one (nor
# remove the owner's, which would let it enrol its own): an "enrol" request, confirmed on the
# same page, opens registration and removal for a few minutes.
ENROL = "enrol"
ENROL_MINUTES = 5


async def has_factor(session: AsyncSession, user_id: str) -> bool:
    if await session.scalar(select(PasskeyCredential.id).where(PasskeyCredential.user_id == user_id).limit(1)):
        return True
    totp = await session.get(TotpSecret, user_id)
    return totp is not None and totp.confirmed_at is not None


async def enrolment_open(
    session: AsyncSession, user_id: str, now: datetime, *, web_session: str, max_failures: int
) -> bool:
    """Whether `user_id`, signed in as board session `web_session` (the hash of its secret),
    may register another authenticator now: none yet and no admin's reset waiting for its
    enrolment code, or the code entered by this very session (the finder of a lost phone, signed
    in again with its chat account, must not ride on the signer's code), or an enrol request
    confirmed within the last ENROL_MINUTES."""
    if not await has_factor(session, user_id):
        state = await reset_code_state(session, user_id, now, max_failures)
        if state == "entered":
            return await code_entered_by(session, user_id) == web_session
        return state is None
    confirmed = await session.scalar(
        select(StepUpRequest.id)
        .where(
            StepUpRequest.user_id == user_id,
            StepUpRequest.kind == ENROL,
            StepUpRequest.used_at >= now - timedelta(minutes=ENROL_MINUTES),
        )
        .limit(1)
    )
    return confirmed is not None


async def waiting_for(session: AsyncSession, user_id: str, now: datetime, max_failures: int) -> list[StepUpRequest]:
    """The binding decisions that still wait for `user_id`'s confirmation (enrolments and
    reset codes aside): removing their last authenticator would leave them no way to confirm these."""
    rows = await session.scalars(
        select(StepUpRequest)
        .where(
            StepUpRequest.user_id == user_id,
            StepUpRequest.kind.not_in((ENROL, RESET_CODE)),
            StepUpRequest.used_at.is_(None),
            StepUpRequest.expires_at > now,
            StepUpRequest.failures < max_failures,
        )
        .order_by(StepUpRequest.id)
    )
    return list(rows)


async def factor_counts(session: AsyncSession, user_id: str) -> tuple[int, bool]:
    """(passkeys registered, TOTP app on) of `user_id`: what `!安全` shows them."""
    passkeys = await session.scalar(select(func.count()).where(PasskeyCredential.user_id == user_id))
    totp = await session.get(TotpSecret, user_id)
    return int(passkeys or 0), totp is not None and totp.confirmed_at is not None


async def lock_person(session: AsyncSession, user_id: str) -> None:
    """Serialise, until the transaction ends, the changes to one person's authenticators: an
    admin's reset, a registration, a removal. Each reads what the person has and then writes;
    without the lock a registration committed during a reset would survive it, and two
    removals at once could each see the other's authenticator left. PostgreSQL: an advisory
    lock per person; SQLite: its single writer serialises these transactions already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"stepup-person\0{user_id}".encode()).digest()
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest[:8], "big", signed=True)}
    )


# After an admin's reset, whoever holds the lost phone may still hold its Matrix account and
# so get a fresh board sign-in; a first authenticator then needs an enrolment code the admin
# hands over out of band (by phone, in person). It is a request row of its own kind: the hash
# of the code (never the code), the admin in `details`, an expiry, failures counted; `used_at`
# is when the code was entered, which opens enrolment for RESET_ENROL_MINUTES to the board
# session that entered it alone (`details["session"]`: the hash of its secret).
RESET_CODE = "reset_code"
RESET_CODE_DAYS = 7
RESET_ENROL_MINUTES = 30
# No 0/O, 1/I/L: read aloud over the phone. 31^10 codes, and a handful of tries per code.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RESET_CODE_LENGTH = 10


def _code_hash(code: str) -> str:
    # Its own prefix: a code never matches a confirmation link's token (/confirm/<token>).
    cleaned = "".join(code.split()).replace("-", "").upper()
    return token_hash(f"reset-code\0{cleaned}")


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


async def issue_reset_code(session: AsyncSession, user_id: str, admin: str, clock: Clock) -> str:
    """A fresh enrolment code for `user_id` after `admin`'s reset (an earlier one is void)."""
    await session.execute(
        delete(StepUpRequest).where(StepUpRequest.user_id == user_id, StepUpRequest.kind == RESET_CODE)
    )
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(RESET_CODE_LENGTH))
    now = clock.now()
    session.add(
        StepUpRequest(
            token_hash=_code_hash(code),
            user_id=user_id,
            kind=RESET_CODE,
            record_id=0,
            subject="安全设置",
            step="",
            created_at=now,
            expires_at=now + timedelta(days=RESET_CODE_DAYS),
            failures=0,
            details={"by": admin},
        )
    )
    await session.flush()
    return format_code(code)


async def _reset_code_row(session: AsyncSession, user_id: str) -> StepUpRequest | None:
    found: StepUpRequest | None = await session.scalar(
        select(StepUpRequest)
        .where(StepUpRequest.user_id == user_id, StepUpRequest.kind == RESET_CODE)
        .order_by(StepUpRequest.id.desc())
        .limit(1)
    )
    return found


async def reset_code_state(session: AsyncSession, user_id: str, now: datetime, max_failures: int) -> str | None:
    """None: no admin's reset waits for a code. Else "needed" (the code has not been entered),
    "entered" (enrolment open for now), or why no code opens it any more: "expired" (also a
    code entered longer than RESET_ENROL_MINUTES ago with nothing enrolled), "locked"."""
    row = await _reset_code_row(session, user_id)
    if row is None:
        return None
    if row.used_at is not None:
        return "entered" if now < as_utc(row.used_at) + timedelta(minutes=RESET_ENROL_MINUTES) else "expired"
    if now >= as_utc(row.expires_at):
        return "expired"
    if row.failures >= max_failures:
        return "locked"
    return "needed"


async def enter_reset_code(
    session: AsyncSession, user_id: str, code: str, now: datetime, max_failures: int, *, web_session: str
) -> str | None:
    """Check `code` against `user_id`'s waiting reset code: None when it opened enrolment for
    board session `web_session` (the hash of its secret) alone, else why not ("none",
    "expired", "locked", "wrong": counted, `max_failures` lock it)."""
    await lock_person(session, user_id)
    state = await reset_code_state(session, user_id, now, max_failures)
    if state != "needed":
        return "none" if state in (None, "entered") else state
    row = await _reset_code_row(session, user_id)
    assert row is not None
    if not hmac.compare_digest(row.token_hash, _code_hash(code)):
        row.failures += 1
        return "wrong"
    row.used_at = now
    # A new dict: the JSON column notices a reassignment, not a change in place.
    row.details = {**(row.details or {}), "session": web_session}
    return None


async def code_entered_by(session: AsyncSession, user_id: str) -> str | None:
    """The board session (hash of its secret) that entered `user_id`'s reset code, if one did."""
    row = await _reset_code_row(session, user_id)
    entered = (row.details or {}).get("session") if row is not None and row.used_at is not None else None
    return entered if isinstance(entered, str) else None


async def enrolled(session: AsyncSession, user_id: str) -> None:
    """A first authenticator is in after a reset: its code is spent (removing every one later
    asks for the session alone again, as before any reset)."""
    await session.execute(
        delete(StepUpRequest).where(StepUpRequest.user_id == user_id, StepUpRequest.kind == RESET_CODE)
    )


async def reset_factors(session: AsyncSession, user_id: str) -> tuple[list[str], bool]:
    """Remove every authenticator of `user_id` (an admin's way out of a lost only phone):
    (the passkeys' credential ids, whether a confirmed TOTP app was on). A TOTP set-up never
    confirmed and a passkey registration under way go too, so enrolment starts afresh.
    Requests waiting for the person are kept: they enrol again and confirm them."""
    await lock_person(session, user_id)
    passkeys = await passkeys_of(session, user_id)
    totp = await totp_of(session, user_id)
    had_totp = totp is not None and totp.confirmed_at is not None
    for row in passkeys:
        await session.delete(row)
    if totp is not None:
        await session.delete(totp)
    await session.execute(delete(RegistrationChallenge).where(RegistrationChallenge.user_id == user_id))
    await session.flush()
    return [row.credential_id for row in passkeys], had_totp
