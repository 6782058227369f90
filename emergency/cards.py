"""The cards the bot keeps up to date: the incident summary and the order receipt matrix."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from emergency.models import AlertAck, Incident, Order, Receipt, Report
from emergency.policy import ROMAN
from emergency.texts import tr
from notifications.card import Card, Table
from records.clock import as_utc
from timeparse import format_when

_CN_NUM = "零一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 25 → 二十五 (enough for 续报 numbers)."""
    if n <= 10:
        return _CN_NUM[n]
    if n < 20:
        return "十" + (_CN_NUM[n % 10] if n % 10 else "")
    tens, ones = divmod(n, 10)
    return _CN_NUM[tens] + "十" + (_CN_NUM[ones] if ones else "") if n < 100 else str(n)


def report_name(kind: str, number: int, lang: str) -> str:
    if kind == "update":
        return tr("em.report.name.update", lang, n=chinese_number(number) if lang == "zh" else number)
    return tr(f"em.report.name.{kind}", lang)


#: The actor recorded when Zhiban itself acted (a deadline passed, a nag escalated).
SYSTEM_ACTOR = "zhiban"


def actor_shown(actor: str, lang: str) -> str:
    """Who did something, as people read it: Zhiban itself is 值班助手, not its internal name."""
    return tr("em.actor.system", lang) if actor == SYSTEM_ACTOR else actor


def people_list(users: Iterable[str], lang: str) -> str:
    """People joined as a list is in the language: 、 in Chinese, a comma in English."""
    return ("、" if lang == "zh" else ", ").join(users)


def role_lines(incident: Incident, lang: str) -> list[str]:
    lines = []
    for role, users in (incident.roles or {}).items():
        if users:
            lines.append(tr("em.card.role", lang, role=tr(f"em.role.{role}", lang), users=people_list(users, lang)))
    return lines


def alert_ack_line(acks: Iterable[AlertAck], lang: str) -> str | None:
    """Who of those alerted by DM has acknowledged the declaration (✅), and who not yet."""
    rows = list(acks)
    if not rows:
        return None
    waiting = [r.user_id for r in rows if r.acked_at is None]
    line = tr("em.card.alert_acks", lang, acked=len(rows) - len(waiting), total=len(rows))
    if waiting:
        line += tr("em.card.alert_waiting", lang, users=people_list(waiting, lang))
    return line


def incident_card(
    incident: Incident,
    *,
    reports: Iterable[Report],
    order_count: int,
    now: datetime,
    acks: Iterable[AlertAck] = (),
) -> Card:
    lang, tz = incident.lang, incident.tz
    status = tr(f"em.card.status.{incident.status}", lang)
    lines = [
        tr("em.card.title", lang, id=incident.code, grade=ROMAN[incident.grade], title=incident.title),
        tr(
            "em.card.meta",
            lang,
            category=incident.category or tr("em.card.no_class", lang),
            status=status,
            at=format_when(incident.declared_at, tz=tz, lang=lang, now=now),
        ),
    ]
    if incident.category is None and incident.status == "open":
        # Responders are configured by class: without one, they were not invited. Say so where
        # the commander looks, with the command that fixes it.
        lines.append(tr("em.incident.no_class_note", lang, id=incident.code))
    lines.append(tr("em.card.declared_by", lang, user=incident.declared_by))
    lines.extend(role_lines(incident, lang))
    ack_line = alert_ack_line(acks, lang)
    if ack_line:
        lines.append(ack_line)
    filed = list(reports)
    late = sum(1 for r in filed if r.late)
    lines.append(tr("em.card.reports", lang, count=len(filed), late=late, orders=order_count))
    if incident.status == "open" and incident.next_report and incident.next_report_due:
        due = as_utc(incident.next_report_due)
        name = report_name(incident.next_report, incident.updates_filed + 1, lang)
        key = "em.card.next_overdue" if now > due else "em.card.next"
        lines.append(tr(key, lang, name=name, due=format_when(due, tz=tz, lang=lang, now=now)))
    lines.append(tr("em.card.hint", lang))
    return Card(lines[0], lines[1:])


def receipt_row(receipt: Receipt, delivered: bool, lang: str) -> list[str]:
    """One recipient's row of the receipt table: who (with the nags), delivered, read, acked, done."""
    yes, no = "✔", "…"
    nags = tr("em.card.nags", lang, n=receipt.nags) if receipt.nags and not receipt.acked_at else ""
    return [
        receipt.user_id + nags,
        yes if delivered else no,
        yes if receipt.read_at or receipt.acked_at else no,
        yes if receipt.acked_at else no,
        yes if receipt.done_at else no,
    ]


def order_card(order: Order, receipts: Iterable[Receipt], *, delivered: set[str], lang: str) -> Card:
    """The order (or alert) and who has it: a table of recipients, the next step last."""
    rows = list(receipts)
    acked = sum(1 for r in rows if r.acked_at)
    done = sum(1 for r in rows if r.done_at)
    head_key = "em.card.alert_title" if order.kind == "alert" else "em.card.order_title"
    columns = [tr(f"em.card.col.{name}", lang) for name in ("person", "delivered", "read", "acked", "done")]
    return Card(
        tr(head_key, lang, id=order.code, by=order.issued_by),
        [
            order.text,
            tr("em.card.order_progress", lang, acked=acked, done=done, total=len(rows)),
            Table(columns, [receipt_row(r, r.user_id in delivered, lang) for r in rows]),
            tr("em.card.order_hint", lang, id=order.code),
        ],
    )


def order_to_act(receipts: Iterable[Receipt]) -> list[str]:
    """Who must still act on an order card: the recipients who have not acknowledged it."""
    return [r.user_id for r in receipts if r.acked_at is None]
