"""Chat handlers: `!push` (a sign-in link by DM), `!push test`, and `!quiet`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Command, CommandObject, Message, Router, UserFacingError
from notifications import signin
from notifications.models import PushSubscription
from notifications.notice import Kind, NoticeSpec
from notifications.quiet import parse_quiet_hours
from notifications.service import notify
from notifications.texts import TEXTS as NOTICE_TEXTS
from records import audit, outbox, people
from records.clock import Clock

router = Router("push")

PUSH = Command(
    "push",
    aliases=("推送",),
    usage={"zh": "!推送 [test]", "en": "!push [test]"},
    summary={
        "zh": "获取手机推送的登录链接；test 发送测试推送",
        "en": "Get a sign-in link for phone push; 'test' sends a test push",
    },
    example="!push test",
)
QUIET = Command(
    "quiet",
    aliases=("免打扰",),
    usage={"zh": "!免打扰 [22:00-07:00|off]", "en": "!quiet [22:00-07:00|off]"},
    summary={
        "zh": "查看或设置免打扰时段（紧急通知除外）",
        "en": "Show or set quiet hours (emergencies still come through)",
    },
    example="!quiet 22:00-07:00",
)
_TEST_WORDS = {"test", "测试"}
_OFF_WORDS = {"off", "关", "关闭", "取消", "none"}


@router.message(PUSH)
async def push(
    message: Message, command: CommandObject, session: AsyncSession, t: Any, settings: Any, clock: Clock
) -> None:
    arg = (command.args or "").strip()
    if arg.lower() in _TEST_WORDS:
        await _test(message, session, t, settings, clock)
        return
    if arg:
        raise UserFacingError("push.usage.sub", usage_of="push", value=arg[:40])
    minutes = settings.push.signin_link_minutes
    token = await signin.create_link(session, message.sender, minutes=minutes, clock=clock)
    url = f"{settings.server.public_url.rstrip('/')}/push/signin/{token}"
    # The link signs in whoever opens it, so it goes to the person's DM, never to a group room.
    await outbox.enqueue(
        session, outbox.text_content(t("push.link.dm", minutes=minutes, url=url)), to_user=message.sender
    )
    await audit.record(session, actor=message.sender, action="push.link", subject=message.sender, clock=clock)
    if not message.is_dm:
        await message.reply(t("push.link.sent"))


async def _test(message: Message, session: AsyncSession, t: Any, settings: Any, clock: Clock) -> None:
    devices = await session.scalar(
        select(func.count()).select_from(PushSubscription).where(PushSubscription.user_id == message.sender)
    )
    if not devices:
        await message.reply(t("push.test.none"))
        return
    spec = NoticeSpec(
        kind=Kind.TEST,
        title=NOTICE_TEXTS["push.test.title"],
        body=NOTICE_TEXTS["push.test.body"],
        topic="zhiban-test",
        dm="never",
    )
    result = await notify(session, [message.sender], spec, clock=clock, settings=settings)
    if result.skipped_quiet:
        await message.reply(t("push.test.quiet", count=result.skipped_quiet))
    else:
        await message.reply(t("push.test.queued", count=result.queued))


@router.message(QUIET)
async def quiet(message: Message, command: CommandObject, session: AsyncSession, t: Any, tz: str) -> None:
    arg = (command.args or "").strip()
    person = await people.ensure_person(session, message.sender)
    if not arg:
        if person.quiet_hours:
            await message.reply(t("quiet.current", hours=person.quiet_hours, tz=tz))
        else:
            await message.reply(t("quiet.none"))
        return
    old = person.quiet_hours
    if arg.lower() in _OFF_WORDS:
        person.quiet_hours = None
        reply = t("quiet.off")
    else:
        try:
            window = parse_quiet_hours(arg)
        except ValueError:
            raise UserFacingError("quiet.bad", usage_of="quiet", value=arg[:40]) from None
        person.quiet_hours = str(window)
        reply = t("quiet.set", hours=person.quiet_hours, tz=tz)
    await audit.record(
        session,
        actor=message.sender,
        action="person.quiet_hours",
        subject=message.sender,
        data={"from": old, "to": person.quiet_hours},
    )
    await message.reply(reply)
