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

    @property
    def removed_any(self) -> bool:
        return bool(self.passkeys or self.totp)


async def reset(turn: Turn, actor: str, target: str) -> Reset:
    """Remove every authenticator of `target`, end their board sign-ins, tell them by DM.

    The sign-ins end too: whoever holds the lost phone may still be signed in to the board,
    and with no authenticator left the first one is enrolled with the session alone
    (records.stepup.enrolment_open), so the finder could enrol theirs. The person signs in
    again with `!推送`. Push subscriptions stay (`!推送 撤销` ends those). A binding decision
    waiting for the person is left as it is: they enrol again and confirm it."""
    if not await stepup.has_factor(turn.session, target):
        return Reset(0, False, 0, [])  # nothing to remove: nothing changes, nobody is told
    credentials, had_totp = await stepup.reset_factors(turn.session, target)
    ended = await sessions.end_all(turn.session, target)
    now = turn.clock.now()
    waiting = await stepup.waiting_for(turn.session, target, now, turn.settings.stepup.max_failures)
    named = [f"{r.subject} {r.step}".strip() for r in waiting]
    await audit.record(
        turn.session,
        actor=actor,
        action="stepup.reset",
        subject=target,
        data={"passkeys": credentials, "totp": had_totp, "sessions": ended, "waiting": [r.id for r in waiting]},
        clock=turn.clock,
    )
    done = Reset(len(credentials), had_totp, ended, named)
    await _tell(turn, actor, target, done)
    return done


async def _tell(turn: Turn, actor: str, target: str, done: Reset) -> None:
    lang, _tz = await people.preferences(turn.session, target)
    t = turn.t_in(lang)
    body = t("security.reset.dm", admin=actor, url=security_url(turn))
    if done.waiting:
        body += "\n" + t("security.reset.dm_waiting", items="、".join(done.waiting[:5]))
    await outbox.enqueue(turn.session, outbox.text_content(body), to_user=target)
