"""Chat handlers of approvals: start (with a wizard), decide by command, reply or reaction, manage.

The card ("card:A12") and the DM notices ("approval:A12:notice:@x") both take ✅ / ❌; ❌ without a
reason asks for one. Rules live in the service; this module parses, calls and answers.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import (
    UNHANDLED,
    BotClient,
    Command,
    CommandObject,
    MatrixError,
    Message,
    Reaction,
    ReactionEvent,
    Router,
    State,
    StateFilter,
    StatesGroup,
    UserFacingError,
)
from bot.filters import FilterResult, PlainText, parsed_command
from bot.grammar import Sub, SubTable
from bot.mentions import text_with_ids, user_ids_in
from bot.offloop import off_loop
from bot.types import Event
from commands import prompts
from commands.approvals import access, render, service
from commands.approvals.chain import ChainError, StepSpec, parse_chain, split_title_chain
from commands.approvals.models import Approval
from commands.approvals.policy import policy_from_settings
from commands.approvals.templates import steps_from_template
from records import outbox
from records.clock import Clock

log = logging.getLogger(__name__)
router = Router("approvals")


def _template_names(data: dict[str, Any]) -> list[str]:
    """`!审批 发文 …` names a template, not a sub-command."""
    approvals = getattr(data.get("settings"), "approvals", None)
    return list(getattr(approvals, "templates", None) or ())


# Text with no sub-command word is a new approval's title (`!审批 关于…的请示 @a > @b`).
APPROVAL_SUBS = SubTable(
    (
        Sub("new", ("发起", "新建", "start")),
        Sub("show", ("查看", "详情")),
        Sub("export", ("导出", "归档")),
        Sub("set", ("设置",)),
    ),
    default="new",
)
_G = "approvals"
APPROVAL = Command(
    "approval",
    aliases=("审批",),
    usage={
        "zh": "!审批 发起 <标题> @甲 > @乙 & @丙 > @丁 | @戊 [抄送 @己]\n"
        "!审批 发起 <模板> <标题>（如 发文）\n!审批 查看 A12 · !审批 导出 A12\n!审批 设置 A12 密级|紧急程度|发文字号 <值>",
        "en": "!approval new <title> @a > @b & @c > @d | @e [cc @f]\n"
        "!approval new <template> <title> (e.g. 发文)\n!approval show A12 · !approval export A12\n"
        "!approval set A12 secrecy|urgency|number <value>",
    },
    summary={"zh": "发起、查看、导出审批", "en": "Start, show or export an approval"},
    example="!审批 发起 关于防汛物资采购的请示 @chu > @fu & @zheng > @shuji",
    group=_G,
    subcommands=APPROVAL_SUBS,
    own_words=_template_names,
)
APPROVE = Command(
    "approve",
    aliases=("同意", "批准"),
    usage={
        "zh": "!同意 A12 [意见]（或回复卡片“同意”，或在卡片上回应 ✅）",
        "en": "!approve A12 [opinion] (or ✅ on the card)",
    },
    summary={"zh": "同意审批", "en": "Approve"},
    group=_G,
)
REJECT = Command(
    "reject",
    aliases=("驳回", "不同意"),
    usage={"zh": "!驳回 A12 <理由>（或在卡片上回应 ❌）", "en": "!reject A12 <reason> (or ❌ on the card)"},
    summary={"zh": "驳回审批（须说明理由）", "en": "Reject (a reason is required)"},
    group=_G,
)
TRANSFER = Command(
    "transfer",
    aliases=("转交",),
    usage={"zh": "!转交 A12 @某人", "en": "!transfer A12 @someone"},
    summary={"zh": "把自己的审批转交他人", "en": "Hand your turn to someone else"},
    group=_G,
)
ADDSIGN = Command(
    "addsign",
    aliases=("加签",),
    usage={"zh": "!加签 A12 @某人 [前|后]", "en": "!addsign A12 @someone [before|after]"},
    summary={"zh": "在本步之前或之后加签", "en": "Add a signer before or after this step"},
    group=_G,
)
RETURN = Command(
    "return",
    aliases=("退回",),
    usage={"zh": "!退回 A12 <理由>", "en": "!return A12 <reason>"},
    summary={"zh": "退回上一步或拟稿人", "en": "Send back to the previous step or the drafter"},
    group=_G,
)
WITHDRAW = Command(
    "withdraw",
    aliases=("撤回",),
    usage={"zh": "!撤回 A12", "en": "!withdraw A12"},
    summary={"zh": "发起人撤回审批", "en": "Withdraw your approval request"},
    group=_G,
)
NUDGE = Command(
    "nudge",
    aliases=("催办",),
    usage={"zh": "!催办 A12", "en": "!nudge A12"},
    summary={"zh": "提醒当前审批人", "en": "Remind the current approvers"},
    group=_G,
)
RESUBMIT = Command(
    "resubmit",
    aliases=("重新提交",),
    usage={"zh": "!重新提交 A12", "en": "!resubmit A12"},
    summary={"zh": "修改后重新提交被退回的审批", "en": "Resubmit a returned approval"},
    group=_G,
)
APPROVALS = Command(
    "approvals",
    aliases=("审批列表", "我的审批"),
    usage={"zh": "!审批列表 [全部]", "en": "!approvals [all]"},
    summary={"zh": "待我审批和我发起的", "en": "What waits for me and what I started"},
    group=_G,
    subcommands=SubTable((Sub("all", ("全部", "所有")),), ids=False),
)

_NEW = APPROVAL_SUBS.words_of("new")
_SHOW = APPROVAL_SUBS.words_of("show")
_EXPORT = APPROVAL_SUBS.words_of("export")
_SET = APPROVAL_SUBS.words_of("set")
_ALL = APPROVALS.subcommands.words_of("all") if APPROVALS.subcommands else frozenset()
_CANCEL = {"取消", "cancel", "放弃", "算了", "abort"}
_FIELDS = {
    "密级": "secrecy",
    "secrecy": "secrecy",
    "紧急程度": "urgency",
    "urgency": "urgency",
    "发文字号": "doc_number",
    "文号": "doc_number",
    "number": "doc_number",
}
_BEFORE = {"before", "前", "之前", "本步前"}
_AFTER = {"after", "后", "之后", "本步后"}
_CODE_FIRST = re.compile(r"^\s*[Aa](\d{1,12})(?![\w])\s*(.*)$", re.S)
_CC = re.compile(r"(?:^|\s)(?:抄送|cc)[:：]?\s*(.*)$", re.S | re.I)
_REPLY_WORD = re.compile(r"^\s*(不同意|同意|批准|驳回|approve|reject)(?:[\s,，:：。.!！]+(.*))?$", re.S | re.I)


class NewApproval(StatesGroup):
    title = State()
    chain = State()


class RejectReason(StatesGroup):
    reason = State()


# -- helpers -----------------------------------------------------------------------------
def _server_of(settings: Any) -> str:
    return str(settings.matrix.user_id).split(":", 1)[-1]


def _full(message: Message, settings: Any) -> str:
    return text_with_ids(message.body, message.html, _server_of(settings))


def _args(message: Message, command: CommandObject, settings: Any) -> str:
    """Everything after the command word, with mentions as full Matrix IDs."""
    full = _full(message, settings)
    return re.sub(rf"^.*?{re.escape(command.invoked)}\s*", "", full, count=1, flags=re.S | re.I).strip()


def _domain(exc: ChainError) -> UserFacingError:
    return UserFacingError(exc.key, **exc.params)


async def _named(directory: Any, text: str) -> str:
    """`text` with every person it names as a full Matrix ID (records.directory).

    An unknown or ambiguous @person is refused before anything is stored: a typo must not
    stall a chain.
    """
    return text if directory is None else str(await directory.resolve_text(text))


async def _approval_of(
    message: Message, command: CommandObject | None, session: AsyncSession, args: str, roles: Any
) -> tuple[Approval, str]:
    """The approval named first in `args` (A12), else the card this message replies to or threads on.

    Every command that names an approval comes through here, reads and writes alike, so each
    first asks the one rule (access.can_see): someone it does not admit is told the approval
    does not exist, before the room is checked and before the action's own rule ("not an
    approver", "it belongs to another room") could confirm that it is there. `roles` is the
    office roles resolver.
    """
    match = _CODE_FIRST.match(args)
    approval_id: int | None = None
    if match:
        approval_id, rest = int(match.group(1)), match.group(2).strip()
    else:
        for event_id in (message.reply_to, message.thread_root):
            if event_id:
                approval_id = service.parse_ref(await outbox.ref_for_event(session, event_id))
                if approval_id is not None:
                    break
        if approval_id is None:
            raise UserFacingError("approval.need_code")
        rest = args.strip()
    approval = await service.get_approval(session, approval_id)
    await access.require_visible(session, approval, message.sender, await _roles_of(roles, session, message.sender))
    if not message.is_dm and approval.room_id != message.room_id:
        raise UserFacingError("approval.other_room", code=approval.code)
    return approval, rest


async def _roles_of(roles: Any, session: AsyncSession, user: str) -> set[str]:
    """The viewer's office-wide roles (room power levels grant nothing on approvals)."""
    return set(await roles.roles_of(session, user)) if roles is not None else set()


def _outcome_text(outcome: service.Outcome, t: Any, lang: str, actor: str, opinion: str) -> str:
    code = outcome.approval.code
    if outcome.event == "approved":
        return str(t("approval.approved_reply", code=code))
    if outcome.event == "rejected":
        return str(t("approval.rejected_reply", code=code, reason=opinion))
    if outcome.event == "step_done":
        step = service.label_in(outcome.step_name)(lang)
        return str(t("approval.step_done_reply", code=code, step=step, people=", ".join(outcome.notified)))
    return str(t("approval.recorded", code=code, user=actor))


# -- starting ----------------------------------------------------------------------------
async def _start(
    message: Message,
    title: str,
    steps: list[StepSpec],
    cc: list[str],
    template: str | None,
    session: AsyncSession,
    clock: Clock,
    settings: Any,
    client: Any,
    lang: str,
    tz: str,
) -> None:
    approval = await service.start_approval(
        session,
        requester=message.sender,
        title=title,
        steps=steps,
        room_id=message.room_id,
        clock=clock,
        template=template,
        cc=cc,
        lang=lang,
        tz=tz,
        policy=policy_from_settings(settings),
    )
    loaded = await service.load_steps(session, approval.id)
    content = render.card_content(approval, loaded, now=clock.now())
    await message.reply(content["body"], content["formatted_body"], ref=service.card_ref(approval.id))


def _split_cc(chain_text: str) -> tuple[str, list[str]]:
    match = _CC.search(chain_text)
    if match is None:
        return chain_text, []
    return chain_text[: match.start()].strip(), user_ids_in(match.group(1))


def _steps(chain_text: str) -> tuple[list[StepSpec], list[str]]:
    chain_text, cc = _split_cc(chain_text)
    try:
        return parse_chain(chain_text), cc
    except ChainError as exc:
        raise _domain(exc) from None


def _template_steps(name: str, settings: Any, requester: str, roles: Any) -> list[StepSpec]:
    try:
        return steps_from_template(name, settings.approvals.templates, requester, roles.configured)
    except ChainError as exc:
        raise _domain(exc) from None


@router.message(APPROVAL)
async def approval_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    settings: Any,
    roles: Any,
    state: Any,
    client: Any,
    t: Any,
    lang: str,
    tz: str,
    directory: Any = None,
) -> None:
    args = _args(message, command, settings)
    word, _, rest = args.partition(" ")
    if not args:
        await list_approvals(message, command, session, clock, roles, t, lang)
        return
    if word.lower() in _SHOW or (_CODE_FIRST.match(args) and len(args.split()) == 1):
        target = rest if word.lower() in _SHOW else args
        approval, _ = await _approval_of(message, command, session, target, roles)
        steps = await service.load_steps(session, approval.id)
        await message.reply("\n".join(render.card_lines(approval, steps, clock.now(), lang)))
        return
    if word.lower() in _EXPORT:
        await _export(message, command, session, clock, client, t, lang, rest, roles)
        return
    if word.lower() in _SET:
        await _set_field(message, command, session, clock, t, rest, roles)
        return
    body = rest.strip() if word.lower() in _NEW else args
    await _new(message, await _named(directory, body), session, clock, settings, roles, state, client, t, lang, tz)


async def _new(
    message: Message,
    text: str,
    session: AsyncSession,
    clock: Clock,
    settings: Any,
    roles: Any,
    state: Any,
    client: Any,
    t: Any,
    lang: str,
    tz: str,
) -> None:
    first, _, after = text.partition(" ")
    if first and first in settings.approvals.templates:
        title, cc = _split_cc(after)
        if not title.strip():
            await state.set_state(NewApproval.title)
            await state.set_data({"template": first})
            await message.reply(t("approval.ask_title"))
            return
        steps = _template_steps(first, settings, message.sender, roles)
        await _start(message, title, steps, cc, first, session, clock, settings, client, lang, tz)
        return
    title, chain_text = split_title_chain(text)
    if not title:
        await state.set_state(NewApproval.title)
        await state.set_data({"chain": chain_text})
        await message.reply(t("approval.ask_title"))
        return
    if not chain_text:
        await state.set_state(NewApproval.chain)
        await state.set_data({"title": title})
        await message.reply(t("approval.ask_chain"))
        return
    steps, cc = await off_loop(_steps, chain_text)
    await _start(message, title, steps, cc, None, session, clock, settings, client, lang, tz)


@router.message(StateFilter(NewApproval.title, NewApproval.chain), PlainText())
async def wizard_answer(
    message: Message,
    session: AsyncSession,
    clock: Clock,
    settings: Any,
    roles: Any,
    state: Any,
    client: Any,
    t: Any,
    lang: str,
    tz: str,
    directory: Any = None,
) -> None:
    if message.body.strip().lower() in _CANCEL:
        await state.clear()
        await message.reply(t("approval.wizard_cancelled"))
        return
    data = await state.get_data()
    current = await state.get_state()
    text = _full(message, settings).strip()
    if current == NewApproval.chain:
        text = await _named(directory, text)
    if current == NewApproval.title:
        title = " ".join(text.split())
        if not title:
            await message.reply(t("approval.ask_title"))
            return
        if data.get("template"):
            steps = _template_steps(data["template"], settings, message.sender, roles)
            await _start(message, title, steps, [], data["template"], session, clock, settings, client, lang, tz)
            await state.clear()
            return
        if data.get("chain"):
            steps, cc = await off_loop(_steps, data["chain"])
            await _start(message, title, steps, cc, None, session, clock, settings, client, lang, tz)
            await state.clear()
            return
        await state.update_data(title=title)
        await state.set_state(NewApproval.chain)
        await message.reply(t("approval.ask_chain"))
        return
    # The chain step: a mistake keeps the wizard here, so the user can simply try again.
    steps, cc = await off_loop(_steps, text)
    await _start(message, data.get("title", ""), steps, cc, None, session, clock, settings, client, lang, tz)
    await state.clear()


# -- deciding ----------------------------------------------------------------------------
@router.message(APPROVE)
async def approve_command(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, roles: Any, t: Any, lang: str
) -> None:
    approval, opinion = await _approval_of(message, command, session, command.args, roles)
    outcome = await service.decide(session, approval.id, message.sender, True, opinion, clock)
    await message.reply(_outcome_text(outcome, t, lang, message.sender, opinion))


@router.message(REJECT)
async def reject_command(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, roles: Any, t: Any, lang: str
) -> None:
    approval, reason = await _approval_of(message, command, session, command.args, roles)
    outcome = await service.decide(session, approval.id, message.sender, False, reason, clock)
    await message.reply(_outcome_text(outcome, t, lang, message.sender, reason))


async def _reply_to_card(event: Event, data: dict[str, Any]) -> FilterResult:
    """A plain "同意 …" / "驳回 …" written as a reply to a card or a DM notice."""
    session = data.get("session")
    if not isinstance(event, Message) or event.is_voice or event.reply_to is None or session is None:
        return False
    match = _REPLY_WORD.match(event.body)
    if match is None or parsed_command(event, data) is not None:
        return False
    approval_id = service.parse_ref(await outbox.ref_for_event(session, event.reply_to))
    if approval_id is None:
        return False
    yes = match.group(1).lower() in ("同意", "批准", "approve")
    return {"approval_id": approval_id, "approve": yes, "opinion": (match.group(2) or "").strip()}


@router.message(_reply_to_card)
async def decide_by_reply(
    message: Message,
    approval_id: int,
    approve: bool,
    opinion: str,
    session: AsyncSession,
    clock: Clock,
    roles: Any,
    t: Any,
    lang: str,
) -> None:
    # A reply names its card only by an event id the client sends, like a typed id: the one rule first.
    approval = await service.get_approval(session, approval_id)
    await access.require_visible(session, approval, message.sender, await _roles_of(roles, session, message.sender))
    outcome = await service.decide(session, approval_id, message.sender, approve, opinion, clock)
    await message.reply(_outcome_text(outcome, t, lang, message.sender, opinion))


async def _on_approval(event: Event, data: dict[str, Any]) -> FilterResult:
    session = data.get("session")
    if not isinstance(event, ReactionEvent) or session is None:
        return False
    approval_id = service.parse_ref(await outbox.ref_for_event(session, event.reacts_to))
    return False if approval_id is None else {"approval_id": approval_id}


# A reaction is on a card or a notice the reactor reads, and names no id of its own: it is
# answered about that card ("not an approver of A12"), which tells them nothing new.
@router.reaction(Reaction("✅", "❌"), _on_approval)
async def decide_by_reaction(
    reaction: ReactionEvent, approval_id: int, session: AsyncSession, clock: Clock, state: Any, t: Any, lang: str
) -> None:
    async def say(text: str) -> None:
        await reaction.outbound.send(reaction.room_id, outbox.text_content(text))

    if reaction.key.replace("\ufe0f", "") == "✅":
        outcome = await service.decide(session, approval_id, reaction.sender, True, "", clock)
        if reaction.is_dm:  # in the room, the edited card is the answer
            await say(_outcome_text(outcome, t, lang, reaction.sender, ""))
        return
    approval = await service.check_turn(session, approval_id, reaction.sender)
    question = t("approval.ask_reject_reason", user=reaction.sender, code=approval.code)
    sent = await reaction.outbound.send(reaction.room_id, outbox.text_content(question))
    await prompts.wait_for_answer(state, RejectReason.reason, {"approval_id": approval_id}, sent)


# In a group only a reply to the question is the reason (commands.prompts); in a DM, the next message.
@router.message(prompts.answer_to_prompt(RejectReason.reason))
async def reject_reason(message: Message, session: AsyncSession, clock: Clock, state: Any, t: Any, lang: str) -> None:
    data = await state.get_data()
    await state.clear()
    if message.body.strip().lower() in _CANCEL:
        await message.reply(t("approval.wizard_cancelled"))
        return
    reason = message.body.strip()
    outcome = await service.decide(session, int(data["approval_id"]), message.sender, False, reason, clock)
    await message.reply(_outcome_text(outcome, t, lang, message.sender, reason))


# -- changing the chain ------------------------------------------------------------------
def _one_person(text: str) -> str:
    people = user_ids_in(text)
    if len(people) != 1:
        raise UserFacingError("approval.need_person")
    return people[0]


@router.message(TRANSFER)
async def transfer_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    settings: Any,
    roles: Any,
    client: Any,
    t: Any,
    directory: Any = None,
) -> None:
    approval, rest = await _approval_of(message, command, session, _args(message, command, settings), roles)
    to = _one_person(await _named(directory, rest))
    await service.transfer(session, approval.id, message.sender, to, clock)
    await message.reply(t("approval.transferred_reply", code=approval.code, user=message.sender, to=to))


@router.message(ADDSIGN)
async def addsign_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    settings: Any,
    roles: Any,
    client: Any,
    t: Any,
    directory: Any = None,
) -> None:
    approval, rest = await _approval_of(message, command, session, _args(message, command, settings), roles)
    rest = await _named(directory, rest)
    who = _one_person(rest)
    words = {w.lower() for w in rest.replace(who, " ").split()}
    where = "before" if words & _BEFORE else "after" if words & _AFTER or not words else None
    if where is None:
        raise UserFacingError("approval.addsign_where")
    await service.add_signer(session, approval.id, message.sender, who, where, clock)
    await message.reply(t("approval.added_reply", code=approval.code, who=who, where=t(f"approval.where_{where}")))


@router.message(RETURN)
async def return_command(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, roles: Any, t: Any, lang: str
) -> None:
    approval, reason = await _approval_of(message, command, session, command.args, roles)
    outcome = await service.return_step(session, approval.id, message.sender, reason, clock)
    if outcome.event == "returned_drafter":
        await message.reply(
            t("approval.returned_drafter_reply", code=approval.code, requester=approval.requester, reason=reason)
        )
    else:
        await message.reply(
            t(
                "approval.returned_reply",
                code=approval.code,
                step=service.label_in(outcome.step_name)(lang),
                reason=reason,
            )
        )


@router.message(RESUBMIT)
async def resubmit_command(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, roles: Any, t: Any, lang: str
) -> None:
    approval, note = await _approval_of(message, command, session, command.args, roles)
    outcome = await service.resubmit(session, approval.id, message.sender, clock, note)
    await message.reply(
        t("approval.resubmitted_reply", code=approval.code, step=service.label_in(outcome.step_name)(lang))
    )


@router.message(WITHDRAW)
async def withdraw_command(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, roles: Any, t: Any
) -> None:
    approval, reason = await _approval_of(message, command, session, command.args, roles)
    await service.withdraw(session, approval.id, message.sender, clock, reason)
    await message.reply(t("approval.withdrawn_reply", code=approval.code))


@router.message(NUDGE)
async def nudge_command(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, roles: Any, t: Any
) -> None:
    approval, _ = await _approval_of(message, command, session, command.args, roles)
    outcome = await service.nudge(session, approval.id, message.sender, clock)
    await message.reply(t("approval.nudged_reply", code=approval.code, people=", ".join(outcome.notified)))


# -- reading -----------------------------------------------------------------------------
@router.message(APPROVALS)
async def list_approvals(
    message: Message,
    command: CommandObject | None,
    session: AsyncSession,
    clock: Clock,
    roles: Any,
    t: Any,
    lang: str,
) -> None:
    now = clock.now()
    if command is not None and command.args.strip().lower() in _ALL:
        await _list_visible(message, session, now, roles, t, lang)
        return
    lines = [t("approval.list_waiting")]
    for title, found in (
        (None, await service.waiting_for(session, message.sender)),
        (t("approval.list_started"), await service.started_by(session, message.sender)),
    ):
        if title:
            lines.append(title)
        if not found:
            lines.append("  " + t("approval.list_none"))
        for approval in found:
            steps = await service.load_steps(session, approval.id)
            lines.append("  " + render.list_line(approval, steps, lang, now))
    await message.reply("\n".join(lines))


async def _list_visible(message: Message, session: AsyncSession, now: Any, roles: Any, t: Any, lang: str) -> None:
    """`!approvals all`: every approval the viewer may see (all of them for an admin), newest first."""
    viewer_roles = await _roles_of(roles, session, message.sender)
    found = await access.visible_approvals(session, message.sender, viewer_roles)
    lines = [t("approval.list_visible")]
    if not found:
        lines.append("  " + t("approval.list_none"))
    for approval in found:
        steps = await service.load_steps(session, approval.id)
        lines.append("  " + render.list_line(approval, steps, lang, now))
    await message.reply("\n".join(lines))


async def _export(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    client: Any,
    t: Any,
    lang: str,
    rest: str,
    roles: Any,
) -> None:
    approval, _ = await _approval_of(message, command, session, rest, roles)
    # python-docx is loaded only when a record is exported, not in every bot process.
    from commands.approvals import export

    text = await export.export_markdown(session, approval.id, lang, clock.now())
    await message.reply(t("approval.export_title", code=approval.code) + "\n\n" + text)
    data = await export.export_docx(session, approval.id, lang, clock.now())
    await _upload_docx(message, client, f"{approval.code}.docx", data, t("approval.export_docx", code=approval.code))


async def _upload_docx(message: Message, client: BotClient, name: str, data: bytes, caption: str) -> None:
    """Upload the .docx and post it as a file; when the upload fails, the Markdown suffices."""
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    try:
        url = await client.upload(data, content_type=mime, filename=name)
    except MatrixError:  # the record was shown as Markdown already
        log.warning("uploading %s failed", name, exc_info=True)
        return
    content = {
        "msgtype": "m.file",
        "body": name,
        "filename": name,
        "url": url,
        "info": {"mimetype": mime, "size": len(data)},
    }
    await message.outbound.send(message.room_id, content)


async def _set_field(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, t: Any, rest: str, roles: Any
) -> None:
    approval, tail = await _approval_of(message, command, session, rest, roles)
    name, _, value = tail.partition(" ")
    field = _FIELDS.get(name.lower())
    if field is None:
        raise UserFacingError("approval.unknown_field", field=name[:20])
    await service.set_header(session, approval.id, message.sender, field, value, clock)
    await message.reply(t("approval.header_set", code=approval.code, field=name, value=value.strip() or "—"))


# -- the thread of a card: the body and attachments ----------------------------------------
async def _in_card_thread(event: Event, data: dict[str, Any]) -> FilterResult:
    session = data.get("session")
    if not isinstance(event, Message) or event.is_voice or event.thread_root is None or session is None:
        return False
    if parsed_command(event, data) is not None:
        return False
    approval_id = service.parse_ref(await outbox.ref_for_event(session, event.thread_root))
    return False if approval_id is None else {"approval_id": approval_id}


@router.message(_in_card_thread)
async def thread_text(message: Message, approval_id: int, session: AsyncSession, clock: Clock, t: Any) -> Any:
    approval = await service.get_approval(session, approval_id)
    if message.sender != approval.requester or approval.is_final:
        return UNHANDLED  # discussion in the thread is not part of the document
    if message.media is not None and message.msgtype in ("m.file", "m.image"):
        await service.add_attachment(
            session, approval_id, message.sender, message.body, message.media.url, message.media.mimetype, clock
        )
        await message.reply(t("approval.file_added", code=approval.code, name=message.body), in_thread=True)
        return None
    await service.append_body(session, approval_id, message.sender, message.body, clock)
    await message.reply(t("approval.body_added", code=approval.code), in_thread=True)
    return None
