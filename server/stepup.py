"""Step-up checks: WebAuthn (py_webauthn) for passkeys, pyotp for TOTP codes; none hand-written.

The server imports no feature, so what a confirmed request *does* (decide the 签发 …) is a
`Completion` the application hands in (zhiban.stepup_wiring), run in the transaction that
marks the request used; telling the boards and the bot afterwards is its `Announce`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidJSONStructure, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from records.clock import Clock
from records.config import Settings
from records.stepup import PasskeyCredential, Refusal, StepUpRequest, TotpSecret
from server.board import BoardChange

# A code is accepted one 30-second step early or late (a phone's clock drifts).
TOTP_WINDOW = 1


class Completion(Protocol):
    """Do what a confirmed request asked, as the person it names, through the feature's own
    service; return None when done, else the reason (in both languages) it could not be."""

    async def __call__(
        self, session: AsyncSession, request: StepUpRequest, credential: str, clock: Clock
    ) -> Refusal | None: ...


class Announce(Protocol):
    """What a confirmation changed, told once it is committed, as a board action tells it
    (zhiban.stepup_wiring): `noted` reads in the transaction what it wrote; `publish`, after
    the commit, wakes the bot's relay and the other server copies' boards and answers what
    this copy's open boards read again."""

    def noted(self, session: AsyncSession) -> str | None: ...

    async def publish(self, noted: str | None) -> BoardChange: ...


class CheckFailed(Exception):
    """The answer does not prove the person's presence (wrong, replayed, for another challenge)."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origin: str

    @classmethod
    def from_settings(cls, settings: Settings) -> RelyingParty:
        url = urlsplit(settings.server.public_url)
        origin = f"{url.scheme}://{url.netloc}"
        return cls(settings.stepup.rp_id or (url.hostname or "localhost"), settings.stepup.rp_name, origin)


def _descriptor(row: PasskeyCredential) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in row.transports or []:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue  # a transport this library does not know is only a hint
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(row.credential_id), transports=transports or None)


def registration_options(
    rp: RelyingParty, user_id: str, display_name: str, existing: list[PasskeyCredential]
) -> tuple[str, str]:
    """(options as JSON for navigator.credentials.create, the challenge in base64url)."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=user_id,
        user_id=user_id.encode(),
        user_display_name=display_name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(row) for row in existing],
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


def verify_registration(rp: RelyingParty, credential: dict[str, object], challenge: str) -> tuple[str, bytes, int]:
    """(credential id in base64url, COSE public key, sign count) of a valid registration."""
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError) as exc:
        raise CheckFailed(str(exc)) from None
    return bytes_to_base64url(verified.credential_id), verified.credential_public_key, verified.sign_count


def authentication_options(rp: RelyingParty, credentials: list[PasskeyCredential]) -> tuple[str, str]:
    """(options as JSON for navigator.credentials.get, the challenge in base64url)."""
    options = generate_authentication_options(
        rp_id=rp.id,
        allow_credentials=[_descriptor(row) for row in credentials],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


def verify_assertion(rp: RelyingParty, credential: dict[str, object], challenge: str, row: PasskeyCredential) -> int:
    """The new sign count of a valid assertion by `row`; a count that did not grow (a cloned
    authenticator, a replay) is refused by the library."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError) as exc:
        raise CheckFailed(str(exc)) from None
    return verified.new_sign_count


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user_id: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user_id, issuer_name=issuer)


def check_totp(row: TotpSecret, code: str, now: datetime) -> int:
    """The time step of a valid code newer than the last one accepted (a code works once)."""
    code = "".join(code.split())
    totp = pyotp.TOTP(row.secret)
    if not code.isdigit() or len(code) != totp.digits:
        raise CheckFailed("not a code")
    current = totp.timecode(now)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if step > (row.last_step or 0) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    raise CheckFailed("wrong or used code")
