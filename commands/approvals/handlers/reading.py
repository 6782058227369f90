"""`!审批列表`, `!审批 导出` / `设置`, and the card's thread, where the drafter writes the body."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot import UNHANDLED, CommandObject, MatrixError, Message, UserFacingError
from bot.filters import FilterResult, parsed_command
from bot.types import Event
from commands.approvals import access, render, service
from commands.approvals.handlers.named import approval_of, roles_of
from commands.approvals.models import Approval
from commands.replies import reply_named
from commands.turn import Turn
from records import outbox

log = logging.getLogger(__name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_FIELDS = {
    "密级": "secrecy",
    "secrecy": "secrecy",
    "紧急程度": "urgency",
    "urgency": "urgency",
    "发文字号": "doc_number",
    "文号": "doc_number",
    "number": "doc_number",
}


async def list_approvals(message: Message, command: CommandObject | None, turn: Turn) -> None:
    if command is not None and command.sub == "all" and not command.sub_args:
        await _list_visible(message, turn)
        return
    lines = [turn.t("approval.list_waiting")]
    lines += await _section(turn, await service.waiting_for(turn.session, message.sender))
    lines.append(turn.t("approval.list_started"))
    lines += await _section(turn, await service.started_by(turn.session, message.sender))
    await reply_named(message, turn.session, "\n".join(lines))


async def _list_visible(message: Message, turn: Turn) -> None:
    """`!approvals all`: every approval the viewer may see (all of them for an admin), newest first."""
    viewer_roles = await roles_of(turn, message.sender)
    found = await access.visible_approvals(turn.session, message.sender, viewer_roles)
    await reply_named(message, turn.session, "\n".join([turn.t("approval.list_visible"), *await _section(turn, found)]))


async def _section(turn: Turn, found: Sequence[Approval]) -> list[str]:
    """One indented line per approval, or "none"."""
    if not found:
        return ["  " + turn.t("approval.list_none")]
    now = turn.clock.now()
    lines = []
    for approval in found:
        steps = await service.load_steps(turn.session, approval.id)
        lines.append("  " + render.list_line(approval, steps, turn.lang, now))
    return lines


async def export(message: Message, turn: Turn, rest: str) -> None:
    approval, _ = await approval_of(message, turn, rest)
    # python-docx is loaded only when a record is exported, not in every bot process (a load
    # cost, not a cycle: export depends on service and render, never on the chat side).
    from commands.approvals import export as exporting

    text = await exporting.export_markdown(turn.session, approval.id, turn.lang, turn.clock.now())
    await message.reply(turn.t("approval.export_title", code=approval.code) + "\n\n" + text)
    data = await exporting.export_docx(turn.session, approval.id, turn.lang, turn.clock.now())
    caption = turn.t("approval.export_docx", code=approval.code)
    await _upload_docx(message, turn, f"{approval.code}.docx", data, caption)


async def _upload_docx(message: Message, turn: Turn, name: str, data: bytes, caption: str) -> None:
    """Upload the .docx and post it as a file; when the upload fails, the Markdown suffices."""
    try:
        url = await turn.client.upload(data, content_type=DOCX, filename=name)
    except MatrixError:  # the record was shown as Markdown already
        log.warning("uploading %s failed", name, exc_info=True)
        return
    content = {
        "msgtype": "m.file",
        "body": name,
        "filename": name,
        "url": url,
        "info": {"mimetype": DOCX, "size": len(data)},
    }
    await message.outbound.send(message.room_id, content)


async def set_field(message: Message, turn: Turn, rest: str) -> None:
    approval, tail = await approval_of(message, turn, rest)
    name, _, value = tail.partition(" ")
    field = _FIELDS.get(name.lower())
    if field is None:
        raise UserFacingError("approval.unknown_field", field=name[:20])
    await service.set_header(turn.session, approval.id, message.sender, field, value, turn.clock)
    await message.reply(turn.t("approval.header_set", code=approval.code, field=name, value=value.strip() or "—"))


# -- the thread of a card: the body and attachments ----------------------------------------
async def in_card_thread(event: Event, data: dict[str, object]) -> FilterResult:
    """A message in the thread of a card (a filter: `data` is the framework's loose dict)."""
    turn = data.get("turn")
    if not isinstance(event, Message) or event.is_voice or event.thread_root is None or not isinstance(turn, Turn):
        return False
    if parsed_command(event, data) is not None:
        return False
    approval_id = service.parse_ref(await outbox.ref_for_event(turn.session, event.thread_root))
    return False if approval_id is None else {"approval_id": approval_id}


async def thread_text(message: Message, approval_id: int, turn: Turn) -> object:
    approval = await service.get_approval(turn.session, approval_id)
    if message.sender != approval.requester or approval.is_final:
        return UNHANDLED  # discussion in the thread is not part of the document
    if message.media is not None and message.msgtype in ("m.file", "m.image"):
        await service.add_attachment(
            turn.session,
            approval_id,
            message.sender,
            message.body,
            message.media.url,
            message.media.mimetype,
            turn.clock,
        )
        await message.reply(turn.t("approval.file_added", code=approval.code, name=message.body), in_thread=True)
        return None
    await service.append_body(turn.session, approval_id, message.sender, message.body, turn.clock)
    await message.reply(turn.t("approval.body_added", code=approval.code), in_thread=True)
    return None
