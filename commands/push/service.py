"""What the push commands change: sign-in links, sessions ended, a test push, quiet hours."""

from __future__ import annotations

from sqlalchemy import func, select

from commands.turn import Turn
from notifications import sessions, signin
from notifications.models import PushSubscription
from notifications.notice import Kind, NoticeSpec
from notifications.quiet import parse_quiet_hours
from notifications.service import NotifyResult, notify
from notifications.texts import TEXTS as NOTICE_TEXTS
from records import audit, outbox, people

# Where the link goes in the stored message; the relay puts the real link in when it sends
# and forgets it afterwards (records.outbox.SECRETS_KEY), so old rows open nothing.
LINK_PLACEHOLDER = "[sign-in link, removed from the record once sent]"
OFF_WORDS = {"off", "关", "关闭", "取消", "none"}


async def send_signin_link(turn: Turn, user_id: str) -> None:
    """A sign-in link by DM: it signs in whoever opens it, so never into a group room."""
    minutes = turn.settings.push.signin_link_minutes
    token = await signin.create_link(turn.session, user_id, minutes=minutes, clock=turn.clock)
    url = f"{turn.settings.server.public_url.rstrip('/')}/push/signin/{token}"
    await outbox.enqueue(
        turn.session,
        outbox.text_content(turn.t("push.link.dm", minutes=minutes, url=LINK_PLACEHOLDER)),
        to_user=user_id,
        secrets={LINK_PLACEHOLDER: url},
    )
    await audit.record(turn.session, actor=user_id, action="push.link", subject=user_id, clock=turn.clock)


async def end_sessions(turn: Turn, actor: str, target: str, action: str) -> tuple[int, int]:
    """End every session and device of `target`; returns (sessions, devices) ended."""
    ended, devices = await sessions.end_everywhere(turn.session, target)
    await audit.record(
        turn.session,
        actor=actor,
        action=action,
        subject=target,
        data={"sessions": ended, "devices": devices},
        clock=turn.clock,
    )
    return ended, devices


async def devices_of(turn: Turn, user_id: str) -> int:
    count = await turn.session.scalar(
        select(func.count()).select_from(PushSubscription).where(PushSubscription.user_id == user_id)
    )
    return int(count or 0)


async def test_push(turn: Turn, user_id: str) -> NotifyResult:
    spec = NoticeSpec(
        kind=Kind.TEST,
        title=NOTICE_TEXTS["push.test.title"],
        body=NOTICE_TEXTS["push.test.body"],
        topic="zhiban-test",
        dm="never",
    )
    return await notify(turn.session, [user_id], spec, clock=turn.clock, settings=turn.settings)


async def set_quiet_hours(turn: Turn, user_id: str, value: str) -> str | None:
    """Set (or with an off word, clear) a person's quiet hours; ValueError for a bad window."""
    person = await people.ensure_person(turn.session, user_id)
    old = person.quiet_hours
    person.quiet_hours = None if value.lower() in OFF_WORDS else str(parse_quiet_hours(value))
    await audit.record(
        turn.session,
        actor=user_id,
        action="person.quiet_hours",
        subject=user_id,
        data={"from": old, "to": person.quiet_hours},
    )
    return person.quiet_hours
