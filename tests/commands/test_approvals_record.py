"""Templates from config, header fields, and the archived record (Markdown and .docx)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from docx import Document

from commands.approvals import export, service
from commands.approvals.chain import ChainError, parse_chain
from commands.approvals.templates import steps_from_template
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.errors import DomainError

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
REQ, A, B, C = (f"@{n}:localhost" for n in ("req", "a", "b", "c"))
ROLES = {"duty_leader": [A], "leader": [B, C, REQ], "duty_officer": [C]}


def test_default_fawen_template_resolves_roles_without_the_requester() -> None:
    templates = Settings().approvals.templates
    steps = steps_from_template("发文", templates, REQ, lambda role: ROLES.get(role, []))
    assert [s.name for s in steps] == ["拟稿", "核稿", "会签", "签发", "归档"]
    assert steps[0].drafter
    assert steps[2].members == (B, C) and steps[2].mode == "all"  # the requester (a leader) is left out
    assert steps[3].mode == "any"


def test_template_errors() -> None:
    templates = Settings().approvals.templates
    with pytest.raises(ChainError) as caught:
        steps_from_template("请示", templates, REQ, lambda role: [])
    assert caught.value.key == "approval.unknown_template" and "发文" in caught.value.params["names"]
    with pytest.raises(ChainError) as caught:
        steps_from_template("发文", templates, REQ, lambda role: [])
    assert caught.value.key == "approval.template_nobody" and caught.value.params["step"] == "核稿"


async def test_record_exports(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        approval = await service.start_approval(
            session,
            requester=REQ,
            title="关于防汛物资采购的请示",
            steps=parse_chain(f"{A} > {B}"),
            room_id="!r:x",
            clock=clock,
        )
        aid = approval.id
        await service.append_body(session, aid, REQ, "拟采购编织袋五千条。", clock)
        await service.set_header(session, aid, REQ, "secrecy", "秘密", clock)
        await service.set_header(session, aid, REQ, "urgency", "特急", clock)
        await service.set_header(session, aid, REQ, "doc_number", "办发〔2026〕12号", clock)
        with pytest.raises(DomainError):
            await service.set_header(session, aid, REQ, "colour", "红", clock)
    async with db.transaction() as session:
        await service.decide(session, aid, A, True, "拟同意", clock)
        await service.decide(session, aid, B, True, "同意采购", clock)

    async with db.reading() as session:
        markdown = await export.export_markdown(session, aid, "zh", clock.now())
        data = await export.export_docx(session, aid, "zh", clock.now())
    assert "# 关于防汛物资采购的请示" in markdown
    assert "| 密级 | 秘密 |" in markdown and "| 紧急程度 | 特急 |" in markdown
    assert "| 发文字号 | 办发〔2026〕12号 |" in markdown and f"| 签发人 | {B} |" in markdown
    assert "拟采购编织袋五千条。" in markdown and "拟同意" in markdown and "流转记录" in markdown

    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "密级：秘密" in text and "紧急程度：特急" in text and "办发〔2026〕12号" in text
    assert f"签发人：{B}" in text and "关于防汛物资采购的请示" in text and "拟采购编织袋五千条。" in text
    cells = [c.text for row in document.tables[0].rows for c in row.cells]
    assert any("同意采购" in c for c in cells)
