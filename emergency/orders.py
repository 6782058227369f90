"""Orders (指令) and alerts: each recipient acknowledges; the silent are nagged, then the commander is told.

Nag timers are keyed "order:O9:nag:<user>" and carry their own period and limits, so that a
worker needs nothing but the database to run them.

The receipt matrix: delivered (the homeserver accepted the DM), read (the recipient's read
receipt in their DM with the bot covers the DM, or they acknowledged), acknowledged, done. A
person whose client sends only private read receipts shows as not read until they acknowledge:
the column never claims more than the homeserver told the bot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency import cards, incidents, outreach
from emergency.models import Incident, Order, Receipt
from emergency.phones import noted
from emergency.texts import tr
from notifications import reach
from notifications.names import names_for
from records import audit, outbox, people, timers
from records.clock import Clock
from records.errors import DomainError, NotAllowed, NotFound
from records.models import OutboxMessage, Timer
from records.timers import Fired

_CODE = re.compile(r"^[Oo](\d{1,9})$")


def parse_code(word: str) -> int | None:
    match = _CODE.match(word.strip())
    return int(match.group(1)) if match else None


def card_ref(order: Order) -> str:
    return f"card:{order.code}"


def dm_ref(order: Order, user: str) -> str:
    return f"order:{order.code}:dm:{user}"


def nag_key(order: Order, user: str) -> str:
    return f"order:{order.code}:nag:{user}"


def incident_params(incident: Incident | None, lang: str) -> dict[str, str]:
    """`where` and `link` of an order's DMs: which incident it belongs to and a link to its room,
    so that someone working two incidents knows which one an order is for (empty for an alert)."""
    if incident is None:
        return {"where": "", "link": ""}
    link = tr("em.order.link", lang, url=outreach.room_link(incident.room_id)) if incident.room_id else ""
    return {"where": tr("em.order.where", lang, id=incident.code, title=incident.title), "link": link}


async def dm_params(session: AsyncSession, order: Order, user: str) -> dict[str, str]:
    """The incident context of an order's DM, in the language `user` reads."""
    incident = await session.get(Incident, order.incident_id) if order.incident_id else None
    return incident_params(incident, await reach.language_of(session, user, order.lang))


@dataclass(frozen=True)
class NagPlan:
    every_minutes: int
    escalate_after: int
    max_nags: int
    tell: tuple[str, ...]  # told when a recipient stays silent (commander, or the sender of an alert)


async def issue(
    session: AsyncSession,
    *,
    actor: str,
    recipients: list[str],
    text: str,
    room_id: str,
    plan: NagPlan,
    clock: Clock,
    incident: Incident | None = None,
    kind: str = "order",
    lang: str = "zh",
) -> Order:
    """Record the order, a receipt per recipient, and a nag timer per recipient."""
    recipients = list(dict.fromkeys(recipients))
    if not recipients:
        raise DomainError("em.order.no_recipients")
    if not text.strip():
        raise DomainError("em.order.no_text")
    if incident is not None:
        incidents.require_open(incident)
    now = clock.now()
    order = Order(
        kind=kind,
        incident_id=incident.id if incident else None,
        room_id=room_id,
        issued_by=actor,
        text=text.strip(),
        created_at=now,
        lang=lang,
    )
    session.add(order)
    await session.flush()
    for user in recipients:
        session.add(Receipt(order_id=order.id, user_id=user, nags=0))
        payload = {
            "order": order.id,
            "user": user,
            "every": plan.every_minutes,
            "escalate_after": plan.escalate_after,
            "max": plan.max_nags,
            "tell": list(plan.tell),
        }
        due = now + timedelta(minutes=plan.every_minutes)
        await timers.schedule(session, "emergency.order_nag", due, payload, key=nag_key(order, user), clock=clock)
    await session.flush()
    if incident is not None:
        await incidents.add_timeline(
            session,
            incident,
            "order",
            actor,
            tr("em.tl.order", incident.lang, id=order.code, users=" ".join(recipients), text=order.text),
            clock=clock,
        )
    await audit.record(
        session,
        actor=actor,
        action=f"{kind}.issue",
        subject=order.code,
        data={"incident": incident.code if incident else None, "to": recipients, "text": order.text},
        clock=clock,
    )
    return order


async def get(session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("em.order.not_found", id=f"O{order_id}")
    return order


async def receipts(session: AsyncSession, order: Order) -> list[Receipt]:
    rows = await session.scalars(select(Receipt).where(Receipt.order_id == order.id).order_by(Receipt.id))
    return list(rows)


async def _one_card_change_at_a_time(session: AsyncSession, order: Order) -> None:
    """Before the card is drawn for an edit, on PostgreSQL: wait for the order's row lock, then
    read its receipts again. Two recipients acknowledging at once would otherwise each draw the
    card from a snapshot without the other's acknowledgement, and the edit sent last could show
    one too few, for good. Waiting here, the second draws it with the first's committed, and
    its edit comes after the first's (the outbox sends them in id order). The receipt rows
    themselves are not locked: each turn holds its own already, and would deadlock on another's.
    SQLite has one writer at a time: nothing to wait for there."""
    if session.get_bind().dialect.name == "sqlite":
        return
    await session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    # Receipts this transaction holds were read before the lock: refreshed in place.
    await session.execute(select(Receipt).where(Receipt.order_id == order.id).execution_options(populate_existing=True))


def _receipt_of(rows: list[Receipt], order: Order, user: str) -> Receipt:
    receipt = next((r for r in rows if r.user_id == user), None)
    if receipt is None:
        raise NotAllowed("em.order.not_recipient", id=order.code)
    return receipt


async def _receipt(session: AsyncSession, order: Order, user: str) -> Receipt:
    receipt = await session.scalar(select(Receipt).where(Receipt.order_id == order.id, Receipt.user_id == user))
    if receipt is None:
        raise NotAllowed("em.order.not_recipient", id=order.code)
    return receipt


async def acknowledge(session: AsyncSession, order: Order, *, user: str, clock: Clock) -> bool:
    """✅ or `!ack O9`. True when this changed something (a repeated ✅ is harmless)."""
    rows = await receipts(session, order)
    receipt = _receipt_of(rows, order, user)
    if receipt.acked_at is not None:
        return False
    receipt.acked_at = clock.now()
    # Whoever acknowledged has read it, wherever they did (the card in the room, a phone push).
    receipt.read_at = receipt.read_at or receipt.acked_at
    await timers.cancel(session, nag_key(order, user))
    await _note(session, order, user, "em.tl.ack", clock)
    await audit.record(session, actor=user, action=f"{order.kind}.ack", subject=order.code, clock=clock)
    delivered = await _prefetch(session, order, rows, user)
    await settle_dms(session, order, user, "em.order.dm_acked")
    await refresh_card(session, order, rows=rows, delivered=delivered)
    return True


async def _prefetch(session: AsyncSession, order: Order, rows: list[Receipt], user: str) -> set[str]:
    """Read up front, one query each, what a receipt's change looks up person by person and
    message by message: the people on the card, and the card and `user`'s DMs it edits. Returns
    the recipients whose DM the homeserver accepted (as `delivered_to` does), read as refs alone:
    every recipient's DM rows with their content, for an order to 200, cost more than the rest
    of the acknowledgement."""
    users = [r.user_id for r in rows]
    await people.load(session, [order.issued_by, *users])
    await outbox.prefetch_refs(session, [card_ref(order), dm_ref(order, user)])
    sent = await outbox.sent_refs(session, [dm_ref(order, u) for u in users])
    return {u for u in users if dm_ref(order, u) in sent}


async def complete(session: AsyncSession, order: Order, *, user: str, note: str, clock: Clock) -> None:
    """`!done O9 <note>`: done implies acknowledged."""
    receipt = await _receipt(session, order, user)
    if receipt.done_at is not None:
        raise DomainError("em.order.already_done", id=order.code)
    now = clock.now()
    receipt.acked_at = receipt.acked_at or now
    receipt.read_at = receipt.read_at or now
    receipt.done_at = now
    receipt.done_note = note.strip() or None
    await timers.cancel(session, nag_key(order, user))
    await _note(session, order, user, "em.tl.done", clock, note=note.strip() or "—")
    await audit.record(
        session, actor=user, action=f"{order.kind}.done", subject=order.code, data={"note": note}, clock=clock
    )
    await settle_dms(session, order, user, "em.order.dm_done")
    await refresh_card(session, order)


async def _note(session: AsyncSession, order: Order, user: str, key: str, clock: Clock, **params: str) -> None:
    if order.incident_id is None:
        return
    incident = await session.get(Incident, order.incident_id)
    if incident is not None:
        text = tr(key, incident.lang, id=order.code, user=user, **params)
        await incidents.add_timeline(session, incident, "receipt", user, text, clock=clock)


async def note_read(
    session: AsyncSession, *, user: str, room_id: str, read_up_to: str, read_at_ms: int, clock: Clock
) -> list[Order]:
    """A read receipt of `user` in `room_id` (their DM with the bot): every order or alert DM sent
    to them there up to the event read is read. Returns the orders newly marked read.

    A receipt covers everything before the event it names, and clients put it on the newest
    message they show (often a later nag or the bot's answer to `!ack`), so the cut-off is when
    that event was sent; for an event the bot did not send, when the homeserver took the receipt.
    """
    cutoff = await session.scalar(
        select(OutboxMessage.sent_at).where(OutboxMessage.event_id == read_up_to, OutboxMessage.room_id == room_id)
    )
    if cutoff is None:
        if not read_at_ms:
            return []
        cutoff = datetime.fromtimestamp(read_at_ms / 1000, UTC)
    refs = await session.scalars(
        select(OutboxMessage.ref).where(
            OutboxMessage.room_id == room_id,
            OutboxMessage.ref.startswith("order:O", autoescape=True),
            OutboxMessage.ref.endswith(f":dm:{user}", autoescape=True),
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.sent_at <= cutoff,
        )
    )
    order_ids = {order_id for ref in refs if ref and (order_id := order_id_of_ref(ref)) is not None}
    if not order_ids:
        return []
    unread = await session.scalars(
        select(Receipt).where(Receipt.order_id.in_(order_ids), Receipt.user_id == user, Receipt.read_at.is_(None))
    )
    changed: list[Order] = []
    for receipt in unread:
        receipt.read_at = clock.now()
        order = await get(session, receipt.order_id)
        await audit.record(session, actor=user, action=f"{order.kind}.read", subject=order.code, clock=clock)
        await refresh_card(session, order)
        changed.append(order)
    return changed


async def delivered_to(session: AsyncSession, order: Order) -> set[str]:
    """Recipients whose DM of the order the homeserver accepted."""
    rows = await session.scalars(
        select(OutboxMessage.ref).where(
            OutboxMessage.ref.startswith(f"order:{order.code}:dm:", autoescape=True),
            OutboxMessage.sent_at.is_not(None),
        )
    )
    return {ref.rsplit(":dm:", 1)[1] for ref in rows if ref}


async def card_message(
    session: AsyncSession, order: Order, *, delivered: set[str] | None = None, rows: list[Receipt] | None = None
) -> dict[str, object]:
    """The order's card as Matrix content: an urgent m.text, people by name, mentioning those
    who have not acknowledged it yet (`rows`: its receipts as the caller holds them)."""
    rows = rows if rows is not None else await receipts(session, order)
    if delivered is None:
        delivered = await delivered_to(session, order)
    card = cards.order_card(order, rows, delivered=delivered, lang=order.lang)
    names = await names_for(session, order.issued_by, users=[r.user_id for r in rows])
    return card.content(names, msgtype="m.text", mention=cards.order_to_act(rows))


async def refresh_card(
    session: AsyncSession, order: Order, *, rows: list[Receipt] | None = None, delivered: set[str] | None = None
) -> None:
    """Edit every copy of the order's card (m.replace)."""
    await _one_card_change_at_a_time(session, order)
    content = await card_message(session, order, rows=rows, delivered=delivered)
    await outbox.enqueue_edits(session, card_ref(order), content)


async def settle_dms(session: AsyncSession, order: Order, user: str, key: str) -> None:
    """Edit every DM of the order `user` was sent (the order and its reminders) to say what they
    did, so that none still asks them to acknowledge."""
    lang = await reach.language_of(session, user, order.lang)
    text = tr(key, lang, kind=tr(f"em.kind.{order.kind}", lang), id=order.code, text=order.text)
    await outbox.enqueue_edits(session, dm_ref(order, user), outbox.text_content(text))


async def of_incident(session: AsyncSession, incident: Incident) -> list[Order]:
    rows = await session.scalars(select(Order).where(Order.incident_id == incident.id).order_by(Order.id))
    return list(rows)


def order_id_of_ref(ref: str) -> int | None:
    """The order of an order card ("card:O9") or of an order's DM ("order:O9:dm:@a:x"), else None."""
    code: str | None = None
    if ref.startswith("card:O"):
        code = ref.removeprefix("card:")
    elif ref.startswith("order:O") and ":dm:" in ref:
        code = ref.split(":")[1]
    return parse_code(code) if code else None


# -- the nag timer -------------------------------------------------------------------------------
class _NagParams(TypedDict):
    """The placeholders of a nag's DM and of the note to whoever issued the order."""

    id: str
    text: str
    minutes: int
    user: str


async def fire_nag(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    payload = timer.payload or {}
    order = await session.get(Order, int(payload.get("order", 0)))
    user = str(payload.get("user", ""))
    if order is None:
        return None
    receipt = await session.scalar(select(Receipt).where(Receipt.order_id == order.id, Receipt.user_id == user))
    if receipt is None or receipt.acked_at is not None:
        return None
    incident = await session.get(Incident, order.incident_id) if order.incident_id else None
    if incident is not None and incident.status != "open":
        return None
    now = clock.now()
    receipt.nags += 1
    minutes = int((now - _aware(order.created_at)).total_seconds() // 60)
    params: _NagParams = {"id": order.code, "text": order.text, "minutes": minutes, "user": user}
    # A nag is urgent; whoever issued the order is told if it cannot reach the person.
    by = order.issued_by
    ref = dm_ref(order, user)
    context = incident_params(incident, await reach.language_of(session, user, order.lang))
    await outreach.dm(
        session,
        user,
        "em.order.nag_dm",
        default_lang=order.lang,
        ref=ref,
        urgent=True,
        caused_by=by,
        mention=True,
        **params,
        **context,
    )
    await outreach.push(
        session,
        [user],
        kind="alert" if order.kind == "alert" else "emergency",
        title_key="em.push.nag",
        body=order.text,
        clock=clock,
        ref=f"order:{order.code}",
        **params,
    )
    if receipt.nags == int(payload.get("escalate_after", 2)) and receipt.escalated_at is None:
        receipt.escalated_at = now
        tell = list(incidents.commanders(incident)) if incident is not None else list(payload.get("tell") or [])
        # Whoever is told can call the silent person when the roster has their number.
        phones = await people.phones(session, [user])
        for person in tell:
            if person != user:
                lang = await reach.language_of(session, person, order.lang)
                told: _NagParams = {**params, "user": noted(user, phones, lang)}
                await outreach.dm(
                    session,
                    person,
                    "em.order.escalate_dm",
                    default_lang=order.lang,
                    urgent=True,
                    caused_by=by,
                    mention=True,  # the commander must act: reach the silent person
                    **told,
                    **incident_params(incident, lang),
                )
        if incident is not None:
            escalation = tr(
                "em.order.escalate_room", incident.lang, **{**params, "user": noted(user, phones, incident.lang)}
            )
            # Urgent: an m.text that mentions the silent recipient, so their phone rings too.
            room, made_by = await incidents.room_of(session, incident)
            await outreach.post(
                session, room, escalation, urgent=True, caused_by=by, msgtype="m.text", mention=[user], room_ref=made_by
            )
            await incidents.add_timeline(
                session,
                incident,
                "escalation",
                "zhiban",
                tr("em.tl.nag_escalated", incident.lang, **params),
                clock=clock,
            )
        await audit.record(
            session, actor="zhiban", action="order.escalate", subject=order.code, data={"user": user, "to": tell}
        )
    await refresh_card(session, order)
    if receipt.nags >= int(payload.get("max", 6)):
        return None
    return Fired(again_at=now + timedelta(minutes=int(payload.get("every", 10))))


def _aware(value: datetime) -> datetime:
    from records.clock import as_utc

    return as_utc(value)
