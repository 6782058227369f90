"""Chat handlers: `!push` (a sign-in link by DM), `!push test`, `!push signout` (sign out
everywhere), `!push revoke @x` (an admin ends someone's sessions), and `!quiet`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Command, CommandObject, Message, Router, UserFacingError
from bot.grammar import Sub, SubTable
from bot.mentions import user_ids_in
from notifications import sessions, signin
from notifications.models import PushSubscription
from notifications.notice import Kind, NoticeSpec
from notifications.quiet import parse_quiet_hours
from notifications.service import notify
from notifications.texts import TEXTS as NOTICE_TEXTS
from records import audit, outbox, people
from records.clock import Clock
from records.errors import NotAllowed

router = Router("push")

PUSH = Command(
    "push",
    aliases=("推送",),
    usage={"zh": "!推送 [测试|退出全部|撤销 @某人]", "en": "!push [test|signout|revoke @someone]"},
    summary={
        "zh": "获取手机推送的登录链接；测试 发送测试推送；退出全部 在所有浏览器上退出并关闭推送",
        "en": "Get a sign-in link for phone push; 'test' sends a test push; 'signout' signs out everywhere",
    },
    example="!push test",
    # `!推送` alone sends the sign-in link; any other first word is refused.
    subcommands=SubTable(
        (
            Sub("test", ("测试",)),
            Sub("signout", ("logout", "退出", "退出全部", "全部退出")),
            Sub("revoke", ("撤销", "吊销")),
        ),
        ids=False,
    ),
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
_SUBS = PUSH.subcommands
_TEST_WORDS = _SUBS.words_of("test") if _SUBS else frozenset()
_SIGNOUT_WORDS = _SUBS.words_of("signout") if _SUBS else frozenset()
_REVOKE_WORDS = _SUBS.words_of("revoke") if _SUBS else frozenset()
# Where the link goes in the stored message; the relay puts the real link in when it sends
# and forgets it afterwards (records.outbox.SECRETS_KEY), so old rows open nothing.
LINK_PLACEHOLDER = "[sign-in link, removed from the record once sent]"
_OFF_WORDS = {"off", "关", "关闭", "取消", "none"}


@router.message(PUSH)
async def push(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    t: Any,
    settings: Any,
    clock: Clock,
    resolve_roles: Any = None,
) -> None:
    arg = (command.args or "").strip()
    word, _, rest = arg.partition(" ")
    if arg.lower() in _TEST_WORDS:
        await _test(message, session, t, settings, clock)
        return
    if arg.lower() in _SIGNOUT_WORDS:
        await _sign_out_everywhere(message, session, t, clock)
        return
    if word.lower() in _REVOKE_WORDS:
        await _revoke(message, command, rest, session, t, clock, resolve_roles)
        return
    if arg:
        raise UserFacingError("push.usage.sub", usage_of="push", value=arg[:40])
    minutes = settings.push.signin_link_minutes
    token = await signin.create_link(session, message.sender, minutes=minutes, clock=clock)
    url = f"{settings.server.public_url.rstrip('/')}/push/signin/{token}"
    # The link signs in whoever opens it, so it goes to the person's DM, never to a group room.
    await outbox.enqueue(
        session,
        outbox.text_content(t("push.link.dm", minutes=minutes, url=LINK_PLACEHOLDER)),
        to_user=message.sender,
        secrets={LINK_PLACEHOLDER: url},
    )
    await audit.record(session, actor=message.sender, action="push.link", subject=message.sender, clock=clock)
    if not message.is_dm:
        await message.reply(t("push.link.sent"))


async def _sign_out_everywhere(message: Message, session: AsyncSession, t: Any, clock: Clock) -> None:
    ended, devices = await sessions.end_everywhere(session, message.sender)
    await audit.record(
        session,
        actor=message.sender,
        action="push.signout_all",
        subject=message.sender,
        data={"sessions": ended, "devices": devices},
        clock=clock,
    )
    await message.reply(t("push.signout.done", sessions=ended, devices=devices))


async def _revoke(
    message: Message,
    command: CommandObject,
    rest: str,
    session: AsyncSession,
    t: Any,
    clock: Clock,
    resolve_roles: Any,
) -> None:
    """An admin ends someone's sessions and devices at once (a lost phone, someone who left)."""
    # Global admins only: a room's power level 100 is anyone's who creates a room.
    if resolve_roles is None or "admin" not in await resolve_roles(message.sender):
        raise NotAllowed("push.revoke.not_admin")
    targets = list(dict.fromkeys([*command.mentions, *user_ids_in(rest)]))
    if len(targets) != 1:
        raise UserFacingError("push.revoke.who", usage_of="push")
    [target] = targets
    ended, devices = await sessions.end_everywhere(session, target)
    await audit.record(
        session,
        actor=message.sender,
        action="push.revoke",
        subject=target,
        data={"sessions": ended, "devices": devices},
        clock=clock,
    )
    await message.reply(t("push.revoke.done", user=target, sessions=ended, devices=devices))


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
