"""Chat handlers of orders and alerts: !order, !ack, !done, !orders, !alert."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import UNHANDLED, CommandObject, Message, ReceiptEvent, Refusal, Router, UserFacingError
from bot.i18n import Translator
from commands.turn import Turn
from emergency import access, cards, incidents, orders, outreach, room_admin
from emergency.commands import ACK, ALERT, DONE, ORDER, ORDERS
from emergency.handlers import common
from emergency.models import Order
from emergency.texts import tr
from notifications import reach
from notifications.names import names_for
from records.clock import Clock
from records.errors import NotFound
from records.people import RoleBook


def _order_id(word: str | None, usage: str) -> int:
    order_id = orders.parse_code(word or "")
    if order_id is None:
        raise UserFacingError("em.order.bad_id", usage_of=usage, value=(word or "")[:20])
    return order_id


async def order(message: Message, command: CommandObject, turn: Turn) -> None:
    session, clock, settings, roles, client, t, directory = (
        turn.session,
        turn.clock,
        turn.settings,
        turn.roles,
        turn.client,
        turn.t,
        turn.directory,
    )
    words = command.argv
    if words and words[0].lower() in ("ack", "确认", "收到"):
        await _ack(message, words[1:], session, clock, roles, t, "order")
        return
    if words and words[0].lower() in ("done", "完成"):
        await _done(message, words[1:], session, clock, roles, t, "order")
        return
    incident = await incidents.in_room(session, message.room_id)
    if incident is None:
        raise UserFacingError("em.order.not_in_incident", usage_of="order")
    office = await common.office_roles(session, roles, message.sender)
    if not (incidents.may_command(incident, message.sender, office) or office & common.DUTY_ROLES):
        raise Refusal("em.order.not_allowed", id=incident.code)
    text = common.args_of(message, settings, command)
    if directory is not None:  # an order to nobody would wait for an acknowledgement forever
        text = await directory.resolve_text(text)
    recipients = common.people_in(text, client.user_id if client else None)
    instruction = " ".join(w for w in text.split() if not w.startswith("@")).strip()
    plan = orders.NagPlan(incident.ack_minutes, incident.nag_escalate_after, incident.nag_max, ())
    item = await orders.issue(
        session,
        actor=message.sender,
        recipients=recipients,
        text=instruction,
        room_id=message.room_id,
        plan=plan,
        clock=clock,
        incident=incident,
        lang=incident.lang,
    )
    await _send_card_and_dms(session, item, recipients, clock, kind="order")
    # Recipients not yet in the room are invited by the relay once the turn has committed (a
    # rate-limited invitation must not hold the transaction open), after the card in the
    # room's lane; their DMs, in lanes of their own, do not wait for it.
    newcomers = [user for user in recipients if user not in (incident.members or [])]
    await room_admin.queue_admission(session, message.room_id, newcomers)
    await incidents.refresh_card(session, incident, clock)


async def _send_card_and_dms(
    session: AsyncSession, item: Order, recipients: list[str], clock: Clock, *, kind: str
) -> None:
    card = await orders.card_message(session, item, delivered=set())
    await reach.card(session, card, room_id=item.room_id, ref=orders.card_ref(item), urgent=True)
    dm_key = "em.alert.dm" if kind == "alert" else "em.order.dm"
    for user in recipients:
        await outreach.dm(
            session,
            user,
            dm_key,
            default_lang=item.lang,
            ref=orders.dm_ref(item, user),
            urgent=True,
            mention=True,  # an order to act on: it notifies whatever the DM room's settings
            id=item.code,
            by=item.issued_by,
            text=item.text,
            **await orders.dm_params(session, item, user),
        )
    await outreach.push(
        session,
        recipients,
        kind="alert" if kind == "alert" else "order",
        title_key="em.push.order" if kind == "order" else "em.push.alert",
        body=item.text,
        clock=clock,
        ref=f"order:{item.code}",
        id=item.code,
    )


async def _visible_order(
    message: Message, words: list[str], session: AsyncSession, clock: Clock, roles: RoleBook, usage: str
) -> Order:
    """The order named first in `words`; one the sender may not see is answered as a missing one,
    so `!ack O9` of someone else's incident neither confirms O9 nor shows its instruction."""
    viewer = await common.viewer_of(session, roles, message, clock)
    return await access.visible_order(session, _order_id(words[0] if words else None, usage), viewer)


async def _ack(
    message: Message, words: list[str], session: AsyncSession, clock: Clock, roles: RoleBook, t: Translator, usage: str
) -> None:
    item = await _visible_order(message, words, session, clock, roles, usage)
    changed = await orders.acknowledge(session, item, user=message.sender, clock=clock)
    await message.reply(t("em.order.acked" if changed else "em.order.already_acked", id=item.code))


async def _done(
    message: Message, words: list[str], session: AsyncSession, clock: Clock, roles: RoleBook, t: Translator, usage: str
) -> None:
    item = await _visible_order(message, words, session, clock, roles, usage)
    await orders.complete(session, item, user=message.sender, note=" ".join(words[1:]), clock=clock)
    await message.reply(t("em.order.done", id=item.code))


async def ack(message: Message, command: CommandObject, turn: Turn) -> None:
    session, clock, roles, t = turn.session, turn.clock, turn.roles, turn.t
    await _ack(message, command.argv, session, clock, roles, t, "ack")


async def done(message: Message, command: CommandObject, turn: Turn) -> object:
    session, clock, roles, t = turn.session, turn.clock, turn.roles, turn.t
    if command.argv and orders.parse_code(command.argv[0]) is None:
        return UNHANDLED  # not an order id: another feature's !done (tasks) may take it
    await _done(message, command.argv, session, clock, roles, t, "done")
    return None


async def list_orders(message: Message, command: CommandObject, turn: Turn) -> None:
    session, clock, roles, t, lang = turn.session, turn.clock, turn.roles, turn.t, turn.lang
    viewer = await common.viewer_of(session, roles, message, clock)
    incident, _ = await common.incident_named(session, message, command.argv)
    # Whoever may see the incident sees all its orders; a recipient who may not sees their own.
    found = await access.visible_orders(session, await orders.of_incident(session, incident), viewer)
    if not found and not access.can_see_incident(incident, viewer):
        raise NotFound("em.incident.not_found", id=incident.code)
    if not found:
        await message.reply(t("em.orders.none", id=incident.code))
        return
    blocks = []
    for item in found:
        rows = await orders.receipts(session, item)
        delivered = await orders.delivered_to(session, item)
        card = cards.order_card(item, rows, delivered=delivered, lang=lang)
        blocks.append(card.body(await names_for(session, item.issued_by, users=[r.user_id for r in rows])))
    await message.reply("\n\n".join(blocks))


async def read_receipt(receipt: ReceiptEvent, turn: Turn) -> object:
    """A read receipt in someone's DM with the bot fills the "read" column of their orders."""
    session, clock = turn.session, turn.clock
    if not receipt.is_dm:
        return UNHANDLED
    await orders.note_read(
        session,
        user=receipt.sender,
        room_id=receipt.room_id,
        read_up_to=receipt.read_up_to,
        read_at_ms=receipt.timestamp_ms,
        clock=clock,
    )
    return None


async def alert(message: Message, command: CommandObject, turn: Turn) -> None:
    session, clock, settings, roles, lang = turn.session, turn.clock, turn.settings, turn.roles, turn.lang
    if not await common.is_duty_staff(session, roles, message.sender, clock):
        raise Refusal("em.duty.staff_only")
    text = command.args.strip()
    if not text:
        raise UserFacingError("em.order.no_text", usage_of="alert")
    # Everyone with an alert role: named in the config or granted it in chat, as for permissions.
    everyone: list[str] = []
    for role_name in settings.emergency.alert_roles:
        everyone.extend(await reach.holders(session, role_name, configured=roles.configured(role_name)))
    recipients = [u for u in dict.fromkeys(everyone) if u != message.sender]
    policy = common.policy_of(settings)
    plan = orders.NagPlan(policy.ack_for(2), policy.nag_escalate_after, policy.nag_max, (message.sender,))
    item = await orders.issue(
        session,
        actor=message.sender,
        recipients=recipients,
        text=text,
        room_id=message.room_id,
        plan=plan,
        clock=clock,
        kind="alert",
        lang=lang,
    )
    await _send_card_and_dms(session, item, recipients, clock, kind="alert")
    await message.reply(tr("em.alert.sent", lang, id=item.code, count=len(recipients)))


def router() -> Router:
    made = Router("emergency.orders")
    made.message(ORDER)(order)
    made.message(ACK)(ack)
    made.message(DONE)(done)
    made.message(ORDERS)(list_orders)
    made.receipt()(read_receipt)
    made.message(ALERT)(alert)
    return made
