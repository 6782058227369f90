"""How an approval reads: the room card, the list lines and the Markdown record.

Pure functions of the rows (no database, no chat), in a given language and zone. The card is
written in the approval's own language so that every edit of it reads the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from commands.approvals.chain import ALL
from commands.approvals.models import (
    ACTIVE,
    APPROVE,
    DONE,
    DRAFTED,
    REJECT,
    TRANSFER,
    Approval,
    ApprovalHistory,
    ApprovalSigner,
    Step,
)
from commands.approvals.texts import render
from notifications.card import Card, Item, Items
from notifications.names import Names
from timeparse import format_when

STATUS_ICON = {"pending": "⏳", "approved": "✅", "rejected": "❌", "withdrawn": "↩️", "returned": "🔙"}


def mode_namer(mode: str, deciders: int) -> Callable[[str], str]:
    """ "（会签）" / " (all must approve)" for a step of several people; nothing for one person."""

    def name(lang: str) -> str:
        if deciders <= 1:
            return ""
        return render("approval.mode_all" if mode == ALL else "approval.mode_any", lang)

    return name


def label_in(label: str) -> Callable[[str], str]:
    """A step label for a text in the reader's language: unnamed steps read "第2步" / "Step 2"."""

    def localised(lang: str) -> str:
        if label.startswith("#") and label[1:].isdigit():
            return render("approval.step_n", lang, n=int(label[1:]))
        return label

    return localised


def status_name(status: str, lang: str) -> str:
    return render(f"approval.status_{status}", lang)


def step_label(step: Step, lang: str) -> str:
    return step.row.name or render("approval.step_n", lang, n=step.row.position + 1)


def _when(value: datetime | None, approval: Approval, now: datetime, lang: str | None = None) -> str:
    if value is None:
        return ""
    return format_when(value, tz=approval.tz, lang=lang or approval.lang, now=now)


def signer_line(signer: ApprovalSigner, step: Step, approval: Approval, now: datetime, lang: str) -> str:
    when = _when(signer.decided_at, approval, now, lang)
    if signer.decision == APPROVE:
        text = render("approval.line_approve", lang, user=signer.user_id, when=when)
    elif signer.decision == REJECT:
        text = render("approval.line_reject", lang, user=signer.user_id, when=when)
    elif signer.decision == TRANSFER:
        text = render("approval.line_transfer", lang, user=signer.user_id, to=signer.transferred_to or "", when=when)
    elif signer.decision == DRAFTED:
        text = render("approval.line_drafted", lang, user=signer.user_id, when=when)
    elif step.row.status == ACTIVE:
        text = render("approval.line_waiting", lang, user=signer.user_id)
    elif step.row.status == DONE:
        text = render("approval.line_skipped", lang, user=signer.user_id)
    else:
        text = render("approval.line_later", lang, user=signer.user_id)
    if signer.added_how in ("before", "after"):
        text += render("approval.tag_added", lang, user=signer.added_by or "")
    if signer.opinion:
        text += render("approval.opinion", lang, opinion=signer.opinion)
    return text


def _head(approval: Approval, now: datetime, lang: str) -> list[str]:
    status = f"{STATUS_ICON.get(approval.status, '')} {status_name(approval.status, lang)}"
    if approval.decided_at is not None:
        status += f"（{_when(approval.decided_at, approval, now, lang)}）" if lang == "zh" else ""
    lines = [
        render("approval.card_title", lang, code=approval.code, title=approval.title),
        render("approval.card_meta", lang, requester=approval.requester, status=status),
    ]
    header = header_summary(approval, lang)
    if header:
        lines.append(header)
    return lines


def _chain(approval: Approval, steps: Sequence[Step], now: datetime, lang: str) -> list[tuple[str, list[str]]]:
    """Each step's line (▶ marks the one waiting) with its people's lines."""
    chain = []
    for step in steps:
        marker = "▶ " if step.row.status == ACTIVE and approval.status == "pending" else ""
        mode = mode_namer(step.row.mode, len([s for s in step.signers if s.decision != TRANSFER]))(lang)
        people = [signer_line(s, step, approval, now, lang) for s in step.signers]
        chain.append((f"{marker}{step_label(step, lang)}{mode}", people))
    return chain


def _tail(approval: Approval, lang: str) -> list[str]:
    lines = []
    if approval.cc:
        lines.append(
            render("approval.card_cc", lang, people="、".join(approval.cc) if lang == "zh" else ", ".join(approval.cc))
        )
    if approval.body:
        first = approval.body.strip().splitlines()[0]
        lines.append(render("approval.card_body", lang, text=first[:120] + ("…" if len(first) > 120 else "")))
    if approval.attachments:
        lines.append(render("approval.card_files", lang, n=len(approval.attachments)))
    if approval.status == "pending":
        lines.append(render("approval.card_hint", lang))
    return lines


def card_lines(approval: Approval, steps: Sequence[Step], now: datetime, lang: str | None = None) -> list[str]:
    """The card as plain lines (people as Matrix IDs)."""
    lang = lang or approval.lang
    lines = _head(approval, now, lang)
    for number, (line, people) in enumerate(_chain(approval, steps, now, lang), start=1):
        lines.append(f"{number}. {line}")
        lines.extend("   " + person for person in people)
    return lines + _tail(approval, lang)


def card(approval: Approval, steps: Sequence[Step], now: datetime, lang: str | None = None) -> Card:
    """The room card: the title, who asked and where it stands, the chain as a numbered list
    (each step's people under it), then what to do."""
    lang = lang or approval.lang
    head = _head(approval, now, lang)
    chain: list[Item] = list(_chain(approval, steps, now, lang))
    return Card(head[0], [*head[1:], Items(chain, ordered=True), *_tail(approval, lang)])


def to_act(approval: Approval, steps: Sequence[Step]) -> list[str]:
    """Who must act on the card now: the undecided approvers of the active step."""
    if approval.status != "pending":
        return []
    return [s.user_id for step in steps if step.row.status == ACTIVE for s in step.undecided]


def card_content(
    approval: Approval, steps: Sequence[Step], *, now: datetime, names: Names | None = None
) -> dict[str, object]:
    """The card as Matrix content: people by name, those due to decide mentioned."""
    return card(approval, steps, now).content(names or Names(), msgtype="m.text", mention=to_act(approval, steps))


def header_summary(approval: Approval, lang: str) -> str:
    parts = []
    if approval.urgency:
        parts.append(render("approval.field_urgency", lang) + "：" + approval.urgency)
    if approval.secrecy:
        parts.append(render("approval.field_secrecy", lang) + "：" + approval.secrecy)
    if approval.doc_number:
        parts.append(render("approval.field_doc_number", lang) + "：" + approval.doc_number)
    return " · ".join(parts)


def list_line(approval: Approval, steps: Sequence[Step], lang: str, now: datetime) -> str:
    current = next((s for s in steps if s.row.status == ACTIVE), None)
    where = step_label(current, lang) if current is not None and approval.status == "pending" else ""
    if where and current is not None and current.undecided:
        # Whom it waits on, written with Matrix IDs: the reply shows them by name.
        people = ("、" if lang == "zh" else ", ").join(s.user_id for s in current.undecided)
        where += render("approval.list_waiting_on", lang, people=people)
    return render(
        "approval.list_item",
        lang,
        code=approval.code,
        title=approval.title,
        status=status_name(approval.status, lang),
        step=f" · {where}" if where else "",
        requester=approval.requester,
    )


def signatory(steps: Sequence[Step]) -> str:
    """签发人: who approved the step named 签发, else the last approver of the chain."""
    named = [s for s in steps if s.row.name == "签发"]
    for step in named or list(reversed(steps)):
        approvers = [s.user_id for s in step.signers if s.decision == APPROVE]
        if approvers:
            return ", ".join(approvers)
    return ""


def markdown_record(
    approval: Approval, steps: Sequence[Step], events: Sequence[ApprovalHistory], lang: str, now: datetime
) -> str:
    """The archived record (归档) as Markdown: header fields, body, the chain and every action."""

    def field(key: str, value: str | None) -> str:
        return f"| {render(key, lang)} | {value or '—'} |"

    lines = [
        f"# {approval.title}",
        "",
        f"| {render('approval.md_field', lang)} | {render('approval.md_value', lang)} |",
        "|---|---|",
        field("approval.md_code", approval.code),
        field("approval.field_urgency", approval.urgency),
        field("approval.field_secrecy", approval.secrecy),
        field("approval.field_doc_number", approval.doc_number),
        field("approval.field_signatory", signatory(steps)),
        field("approval.md_requester", approval.requester),
        field("approval.md_status", status_name(approval.status, lang)),
        field("approval.md_created", _when(approval.created_at, approval, now, lang)),
        field("approval.md_decided", _when(approval.decided_at, approval, now, lang)),
        "",
        f"## {render('approval.md_body', lang)}",
        "",
        approval.body or "—",
    ]
    if approval.attachments:
        lines += ["", f"## {render('approval.md_files', lang)}", ""]
        lines += [f"- {a.get('name', '')} ({a.get('url') or ''})" for a in approval.attachments]
    lines += ["", f"## {render('approval.md_chain', lang)}", ""]
    for step in steps:
        mode = mode_namer(step.row.mode, len([s for s in step.signers if s.decision != TRANSFER]))(lang)
        lines.append(f"{step.row.position + 1}. **{step_label(step, lang)}**{mode}")
        lines.extend("   - " + signer_line(s, step, approval, now, lang) for s in step.signers)
    if approval.cc:
        lines += ["", render("approval.card_cc", lang, people=", ".join(approval.cc))]
    lines += ["", f"## {render('approval.md_history', lang)}", ""]
    for event in events:
        action = render(f"approval.act_{event.action}", lang)
        extra = " → " + event.target if event.target else ""
        where = f"［{event.step_name}］" if event.step_name else ""
        opinion = f"：{event.opinion}" if event.opinion else ""
        lines.append(f"- {_when(event.at, approval, now, lang)} {event.actor} {action}{where}{extra}{opinion}")
    return "\n".join(lines) + "\n"
