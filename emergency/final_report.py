"""The final report of a closed incident: Markdown from the timeline and the reports (and .docx)."""

from __future__ import annotations

import io

from sqlalchemy.ext.asyncio import AsyncSession

from emergency import cards, incidents, orders, reports
from emergency.models import Incident
from emergency.policy import ROMAN
from emergency.texts import tr
from timeparse import format_when


async def build_markdown(session: AsyncSession, incident: Incident) -> str:
    lang, tz = incident.lang, incident.tz

    def when(value: object) -> str:
        return format_when(value, tz=tz, lang=lang) if value is not None else "—"  # type: ignore[arg-type]

    def field(key: str, value: str) -> str:
        return tr("em.field.line", lang, name=tr(key, lang), value=value)

    out = [
        "# " + tr("em.final.title", lang, id=incident.code, title=incident.title),
        "",
        tr("em.final.meta", lang, grade=ROMAN[incident.grade], category=incident.category or "—"),
        tr("em.final.span", lang, start=when(incident.declared_at), end=when(incident.closed_at)),
        "",
        "## " + tr("em.final.roles", lang),
    ]
    for role, users in (incident.roles or {}).items():
        if users:
            out.append("- " + tr("em.field.line", lang, name=tr(f"em.role.{role}", lang), value=" ".join(users)))
    out += ["", "## " + tr("em.final.reports", lang)]
    filed = await reports.reports_of(session, incident)
    if not filed:
        out.append(tr("em.final.none", lang))
    for report in filed:
        name = cards.report_name(report.kind, report.number, lang)
        late = " " + tr("em.report.late_mark", lang) if report.late else ""
        out += ["", f"### {name}{late}", "- " + field("em.field.report_time", when(report.filed_at))]
        if report.due_at is not None:
            out.append("- " + field("em.final.due", when(report.due_at)))
        for key in reports.FIELDS:
            value = (report.fields or {}).get(key)
            if value:
                out.append("- " + field("em.field." + key, value))
        out.append("- " + field("em.final.filed_by", report.filed_by))
    out += ["", "## " + tr("em.final.orders", lang)]
    order_rows = await orders.of_incident(session, incident)
    if not order_rows:
        out.append(tr("em.final.none", lang))
    for order in order_rows:
        rows = await orders.receipts(session, order)
        acked = sum(1 for r in rows if r.acked_at)
        done = sum(1 for r in rows if r.done_at)
        line = tr("em.final.order_line", lang, id=order.code, text=order.text, acked=acked, done=done, total=len(rows))
        out.append("- " + line)
    out += ["", "## " + tr("em.final.timeline", lang)]
    for entry in await incidents.timeline(session, incident):
        out.append(f"- {when(entry.at)} · {cards.actor_shown(entry.actor, lang)} · {entry.text}")
    return "\n".join(out) + "\n"


def file_name(incident: Incident) -> str:
    """The .docx's name as people see it in the room and on their disk: "E1 终报：城东内涝.docx",
    in the incident's language; characters a file system refuses are left out."""
    name = tr("em.final.file_name", incident.lang, id=incident.code, title=incident.title)
    name = "".join(" " if ch in _UNSAFE else ch for ch in name).strip()
    return name[:120] + ".docx"


_UNSAFE = frozenset('/\\:*?"<>|\n\r\t')


def markdown_to_docx(markdown: str) -> bytes:
    """A simple .docx rendering of the final report (headings and bullet lines)."""
    from docx import Document

    document = Document()
    for line in markdown.splitlines():
        if line.startswith("### "):
            document.add_heading(line[4:], level=3)
        elif line.startswith("## "):
            document.add_heading(line[3:], level=2)
        elif line.startswith("# "):
            document.add_heading(line[2:], level=1)
        elif line.startswith("- "):
            document.add_paragraph(line[2:], style="List Bullet")
        elif line.strip():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
