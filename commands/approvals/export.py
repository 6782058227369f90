"""The archived record of an approval (归档): Markdown, and a .docx with GB/T 9704-style header.

GB/T 9704 (党政机关公文格式) puts the copy number, classification (密级), urgency (紧急程度),
issuing authority, document number (发文字号) and signatory (签发人) in the header (版头), the
title in 2号小标宋 centred, the body in 3号仿宋. The fonts are named, not embedded: Word falls
back to what it has, and the fields are what archiving needs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals import render, service
from commands.approvals.models import Approval, ApprovalHistory, Step
from commands.approvals.texts import render as text

# Font sizes of the standard: 2号 = 22 pt (title), 3号 = 16 pt (body and header fields).
TITLE_PT = 22
BODY_PT = 16
RED = RGBColor(0xCC, 0x00, 0x00)


async def export_markdown(session: AsyncSession, approval_id: int, lang: str, now: datetime) -> str:
    approval = await service.get_approval(session, approval_id)
    steps = await service.load_steps(session, approval_id)
    events = await service.history(session, approval_id)
    return render.markdown_record(approval, steps, events, lang, now)


async def export_docx(session: AsyncSession, approval_id: int, lang: str, now: datetime) -> bytes:
    approval = await service.get_approval(session, approval_id)
    steps = await service.load_steps(session, approval_id)
    events = await service.history(session, approval_id)
    return build_docx(approval, steps, events, lang, now)


def _font(run: object, name: str, size: int, *, bold: bool = False, color: RGBColor | None = None) -> None:
    font = run.font  # type: ignore[attr-defined]
    font.name = name
    font.size = Pt(size)
    font.bold = bold
    if color is not None:
        font.color.rgb = color
    # East Asian text takes its font from w:eastAsia, which python-docx does not set itself.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)  # type: ignore[attr-defined]


def build_docx(
    approval: Approval,
    steps: Sequence[Step],
    events: Sequence[ApprovalHistory],
    lang: str,
    now: datetime,
) -> bytes:
    """The record as a Word document; returns the file's bytes."""
    doc = Document()
    header_fields = [
        ("approval.field_secrecy", approval.secrecy),
        ("approval.field_urgency", approval.urgency),
    ]
    for key, value in header_fields:
        if value:
            para = doc.add_paragraph()
            _font(para.add_run(f"{text(key, lang)}：{value}"), "黑体", BODY_PT)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(number.add_run(approval.doc_number or approval.code), "仿宋_GB2312", BODY_PT)
    signer = doc.add_paragraph()
    signer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(
        signer.add_run(f"{text('approval.field_signatory', lang)}：{render.signatory(steps) or '—'}"), "楷体", BODY_PT
    )
    rule = doc.add_paragraph()
    _font(rule.add_run("—" * 28), "宋体", 10, color=RED)  # the red separator line (红色分隔线)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(approval.title), "方正小标宋简体", TITLE_PT, bold=True)
    for line in (approval.body or "—").splitlines() or ["—"]:
        para = doc.add_paragraph()
        para.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
        _font(para.add_run(line), "仿宋_GB2312", BODY_PT)

    if approval.attachments:
        para = doc.add_paragraph()
        _font(para.add_run(text("approval.md_files", lang) + "："), "黑体", BODY_PT)
        for item in approval.attachments:
            _font(doc.add_paragraph().add_run(f"{item.get('name', '')}"), "仿宋_GB2312", BODY_PT)

    doc.add_paragraph()
    heading = doc.add_paragraph()
    _font(heading.add_run(text("approval.md_chain", lang)), "黑体", BODY_PT)
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text = text("approval.md_field", lang)
    table.rows[0].cells[1].text = text("approval.md_value", lang)
    for step in steps:
        row = table.add_row().cells
        row[0].text = render.step_label(step, lang)
        row[1].text = "\n".join(render.signer_line(s, step, approval, now, lang) for s in step.signers)

    doc.add_paragraph()
    heading = doc.add_paragraph()
    _font(heading.add_run(text("approval.md_history", lang)), "黑体", BODY_PT)
    for line in (
        render.markdown_record(approval, steps, events, lang, now)
        .split(f"## {text('approval.md_history', lang)}")[-1]
        .strip()
        .splitlines()
    ):
        _font(doc.add_paragraph().add_run(line.removeprefix("- ")), "仿宋_GB2312", 12)

    footer = doc.add_paragraph()
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    status = render.status_name(approval.status, lang)
    _font(footer.add_run(f"{approval.code} · {status} · {approval.requester}"), "仿宋_GB2312", 12)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
