"""What the security command changes: an admin's reset of someone's step-up authenticators."""

from __future__ import annotations

from dataclasses import dataclass

from commands.turn import Turn
from notifications import sessions
from records import audit, outbox, people, stepup

# The board page where a person adds (or removes) a passkey or a TOTP app.
SECURITY_PATH = "/security"


def security_url(turn: Turn) -> str:
    return f"{turn.settings.server.public_url.rstrip('/')}{SECURITY_PATH}"


@dataclass(frozen=True)
class Reset:
    """What a reset removed, and the binding decisions still waiting for the person."""

    passkeys: int
    totp: bool
    sessions: int
    waiting: list[str]  # "A12 签发", as the confirmation page names them
    code_sent: bool = False  # a fresh enrolment code went to the admin by DM

    @property
    def removed_any(self) -> bool:
        return bool(self.passkeys or self.totp)


async def reset(turn: Turn, actor: str, target: str) -> Reset:
    """Remove every authenticator of `target`, end their board sign-ins, tell them by DM.

    The sign-ins end too: whoever holds the lost phone may still be signed in to the board.
    It may also still hold the person's Matrix account, and so get a fresh sign-in link: a
    first authenticator after a reset needs an enrolment code (records.stepup.RESET_CODE),
    sent to the admin alone by DM to hand over by phone or in person. The person signs in
    again with `!推送`. Push subscriptions stay (`!推送 撤销` ends those). A binding decision
    waiting for the person is left as it is: they enrol again and confirm it.

    With nothing to remove nothing changes, unless an earlier reset's code is still out: then
    a new code replaces it (the admin lost it, it expired or was locked by wrong tries)."""
    now = turn.clock.now()
    if (
        not await stepup.has_factor(turn.session, target)
        and await stepup.reset_code_state(turn.session, target, now, turn.settings.stepup.max_failures) is None
    ):
        return Reset(0, False, 0, [])  # nothing to remove: nothing changes, nobody is told
    credentials, had_totp = await stepup.reset_factors(turn.session, target)
    code = await stepup.issue_reset_code(turn.session, target, actor, turn.clock)
    ended = await sessions.end_all(turn.session, target)
    waiting = await stepup.waiting_for(turn.session, target, now, turn.settings.stepup.max_failures)
    named = [f"{r.subject} {r.step}".strip() for r in waiting]
    await audit.record(
        turn.session,
        actor=actor,
        action="stepup.reset",
        subject=target,
        data={
            "passkeys": credentials,
            "totp": had_totp,
            "sessions": ended,
            "waiting": [r.id for r in waiting],
            "code_issued": True,
        },
        clock=turn.clock,
    )
    done = Reset(len(credentials), had_totp, ended, named, code_sent=True)
    await _tell(turn, actor, target, done)
    await _hand_code(turn, actor, target, code)
    return done


# The code stands in the outbox row's body as this placeholder; the relay puts it in when it
# sends and forgets it once sent (records.outbox.SECRETS_KEY), as it does for sign-in links.
CODE_PLACEHOLDER = "[enrolment-code]"


async def _hand_code(turn: Turn, admin: str, target: str, code: str) -> None:
    """The enrolment code, to the admin alone: never to the person's account (the finder of
    the phone may hold it) and never in the room where the reset was typed."""
    lang, _tz = await people.preferences(turn.session, admin)
    body = turn.t_in(lang)("security.reset.code", user=target, code=CODE_PLACEHOLDER, days=stepup.RESET_CODE_DAYS)
    await outbox.enqueue(turn.session, outbox.text_content(body), to_user=admin, secrets={CODE_PLACEHOLDER: code})


async def _tell(turn: Turn, actor: str, target: str, done: Reset) -> None:
    lang, _tz = await people.preferences(turn.session, target)
    t = turn.t_in(lang)
    body = t("security.reset.dm", admin=actor, url=security_url(turn))
    if done.waiting:
        body += "\n" + t("security.reset.dm_waiting", items="、".join(done.waiting[:5]))
    await outbox.enqueue(turn.session, outbox.text_content(body), to_user=target)
