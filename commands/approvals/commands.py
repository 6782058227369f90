"""The approval commands, as users type them."""

from __future__ import annotations

from collections.abc import Iterable

from bot import Command
from bot.grammar import Sub, SubTable
from records.config import Settings


def template_names(data: dict[str, object]) -> Iterable[str]:
    """`!审批 发文 …` names a template, not a sub-command (Command.own_words; the event's data
    is the framework's dict of values of every kind)."""
    settings = data.get("settings")
    return list(settings.approvals.templates) if isinstance(settings, Settings) else []


_G = "approvals"
# Text with no sub-command word is a new approval's title (`!审批 关于…的请示 @a > @b`).
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
    subcommands=SubTable(
        (
            Sub("new", ("发起", "新建", "start")),
            Sub("show", ("查看", "详情")),
            Sub("export", ("导出", "归档")),
            Sub("set", ("设置",)),
        ),
        default="new",
    ),
    own_words=template_names,
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
