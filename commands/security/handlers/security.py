"""`!安全` (one's own authenticators and the page to manage them) and `!安全 重置 @x` (an admin
removes someone's: their only authenticator was a lost phone)."""

from __future__ import annotations

from bot import CommandObject, Message, UserFacingError
from bot.mentions import user_ids_in
from commands.security import service
from commands.turn import Turn
from records import stepup
from records.errors import NotAllowed


async def security(message: Message, command: CommandObject, turn: Turn) -> None:
    # The sub-command table (commands.SECURITY) has read the first word: none shows one's
    # own, an unknown one never reaches here.
    if command.sub == "reset":
        await _reset(message, command, turn)
        return
    if command.args.strip():
        raise UserFacingError("security.usage.sub", usage_of="security", value=command.args.strip()[:40])
    passkeys, totp = await stepup.factor_counts(turn.session, message.sender)
    key = "security.show" if passkeys or totp else "security.show.none"
    state = turn.t("security.totp.on" if totp else "security.totp.off")
    await message.reply(turn.t(key, passkeys=passkeys, totp=state, url=service.security_url(turn)))


async def _reset(message: Message, command: CommandObject, turn: Turn) -> None:
    # Global admins only: a room's power level 100 is anyone's who creates a room.
    if "admin" not in await turn.resolve_roles(message.sender):
        raise NotAllowed("security.reset.not_admin")
    # A name (`@张三`, `@zhang`) is read as the office knows it; an unknown one is refused naming it.
    # Only the typed words name the target: a reply's mentions (and its quoted fallback) name
    # the person replied to, and a bare reset sent as a reply must not reset them.
    named = await turn.directory.resolve_text(command.sub_args)
    targets = list(dict.fromkeys(user_ids_in(named)))
    if len(targets) != 1:
        raise UserFacingError("security.reset.who", usage_of="security")
    [target] = targets
    if target == message.sender:
        # Four eyes: a stolen admin account must not strip its own authenticators and enrol
        # the thief's with a fresh sign-in link.
        raise NotAllowed("security.reset.self")
    done = await service.reset(turn, message.sender, target)
    if not done.removed_any and not done.code_sent:
        await message.reply(turn.t("security.reset.nothing", user=target))
        return
    totp = turn.t("security.totp.on" if done.totp else "security.totp.off")
    text = turn.t("security.reset.done", user=target, passkeys=done.passkeys, totp=totp, sessions=done.sessions)
    if done.waiting:
        text += "\n" + turn.t("security.reset.waiting", items="、".join(done.waiting[:5]))
    if done.code_sent:
        text += "\n" + turn.t("security.reset.code_sent")
    await message.reply(text)
