"""Texts of approvals (公文审批), zh-CN (default) and en."""

from __future__ import annotations

from bot.i18n import Catalog
from timeparse import TEXTS as TIME_TEXTS

_OWN: dict[str, dict[str, str]] = {
    "group.approvals": {"zh": "公文审批", "en": "Approvals"},
    "push.title": {"zh": "值班助手 · 审批", "en": "Zhiban · approval"},
    # -- the chain -----------------------------------------------------------------------
    "approval.chain_empty": {
        "zh": "审批链是空的。请 @ 审批人，用 > 分步，& 会签，| 或签，例如：@chu > @fu & @zheng",
        "en": "The chain is empty. Mention the approvers: > next step, & all must approve, | any one, "
        "e.g. @chu > @fu & @zheng",
    },
    "approval.chain_bad_token": {
        "zh": "审批链里的“{token}”不是 @审批人 或 > & |。标题请写在审批人之前。",
        "en": "'{token}' in the chain is neither an @approver nor > & |. Put the title before the approvers.",
    },
    "approval.chain_missing_op": {
        "zh": "{user} 前面缺少 >、& 或 |。",
        "en": "Missing >, & or | before {user}.",
    },
    "approval.chain_dangling": {
        "zh": "审批链的“{op}”两边都要有审批人（例如 @a {op} @b），不能连写或放在开头结尾。",
        "en": "'{op}' needs an approver on both sides (e.g. @a {op} @b); it cannot be doubled, lead or trail.",
    },
    "approval.chain_mixed": {
        "zh": "同一步里不能同时用 &（会签）和 |（或签）。请用 > 把它们分成两步。",
        "en": "One step cannot mix & (all must approve) and | (any one). Split them into two steps with >.",
    },
    "approval.chain_too_long": {"zh": "审批链最多 {limit} 步。", "en": "A chain has at most {limit} steps."},
    "approval.step_too_big": {"zh": "每步最多 {limit} 人。", "en": "A step has at most {limit} people."},
    "approval.self_approval": {
        "zh": "不能审批自己发起的事项：请把您自己从审批链中去掉。",
        "en": "You cannot approve your own request: take yourself out of the chain.",
    },
    "approval.unknown_user": {
        "zh": "找不到用户 {user}。请用 @ 选择对方，或写完整的账号（如 @chu:example.org）。",
        "en": "No such user {user}. Pick them with @, or write the full ID (e.g. @chu:example.org).",
    },
    "approval.no_title": {"zh": "请写上审批事项的标题。", "en": "Please give the approval a title."},
    "approval.title_too_long": {
        "zh": "标题太长（{size} 字，最多 {limit} 字）。正文请在卡片的话题里补充。",
        "en": "The title is too long ({size} characters, at most {limit}). Put the text in the card's thread.",
    },
    "approval.unknown_template": {
        "zh": "没有名为“{name}”的审批模板。可用：{names}",
        "en": "No approval template named '{name}'. Available: {names}",
    },
    "approval.template_nobody": {
        "zh": "模板“{template}”的“{step}”环节没有配置审批人（或只有您本人）。请联系管理员。",
        "en": "Nobody is configured for step '{step}' of template '{template}' (or only you). Ask an admin.",
    },
    # -- the wizard ----------------------------------------------------------------------
    "approval.ask_title": {
        "zh": "📝 发起审批：请发送标题（发送“取消”放弃）。",
        "en": "📝 New approval: send the title (send 'cancel' to stop).",
    },
    "approval.ask_chain": {
        "zh": "请 @ 审批人：> 分步，& 会签，| 或签。例如：@chu > @fu & @zheng（发送“取消”放弃）",
        "en": "Mention the approvers: > next step, & all must approve, | any one. E.g. @chu > @fu & @zheng "
        "(send 'cancel' to stop)",
    },
    "approval.wizard_cancelled": {"zh": "已取消。", "en": "Cancelled."},
    "approval.ask_reject_reason": {
        "zh": "{user}，驳回 {code} 需要说明理由：请回复本条消息写明理由（回复“取消”放弃驳回）。",
        "en": "{user}, rejecting {code} needs a reason: reply to this message with it "
        "(reply 'cancel' to keep it pending).",
    },
    # -- the card ------------------------------------------------------------------------
    "approval.card_title": {"zh": "📝 审批 {code}：{title}", "en": "📝 Approval {code}: {title}"},
    "approval.card_meta": {"zh": "发起人：{requester} · 状态：{status}", "en": "Requested by {requester} · {status}"},
    "approval.card_cc": {"zh": "抄送：{people}", "en": "CC: {people}"},
    "approval.card_body": {"zh": "正文：{text}", "en": "Text: {text}"},
    "approval.card_files": {"zh": "附件：{n} 个", "en": "Attachments: {n}"},
    "approval.card_hint": {
        "zh": "回应 ✅ 同意，❌ 驳回（须说明理由）；或回复本消息“同意 意见”“驳回 理由”。",
        "en": "React ✅ to approve, ❌ to reject (a reason is needed); or reply 'approve <opinion>' / "
        "'reject <reason>'.",
    },
    "approval.step_n": {"zh": "第{n}步", "en": "Step {n}"},
    "approval.mode_all": {"zh": "（会签）", "en": " (all must approve)"},
    "approval.mode_any": {"zh": "（或签）", "en": " (any one)"},
    "approval.line_approve": {"zh": "✅ {user} 同意 · {when}", "en": "✅ {user} approved · {when}"},
    "approval.line_reject": {"zh": "❌ {user} 驳回 · {when}", "en": "❌ {user} rejected · {when}"},
    "approval.line_transfer": {"zh": "↪️ {user} 转交 {to} · {when}", "en": "↪️ {user} handed to {to} · {when}"},
    "approval.line_drafted": {"zh": "✍️ {user} 拟稿 · {when}", "en": "✍️ {user} drafted · {when}"},
    "approval.line_waiting": {"zh": "⏳ {user} 待审批", "en": "⏳ {user} to decide"},
    "approval.line_skipped": {"zh": "— {user}（无需审批）", "en": "— {user} (not needed)"},
    "approval.line_later": {"zh": "· {user}", "en": "· {user}"},
    "approval.tag_added": {"zh": "（{user} 加签）", "en": " (added by {user})"},
    "approval.opinion": {"zh": " · 意见：{opinion}", "en": " · opinion: {opinion}"},
    "approval.status_pending": {"zh": "审批中", "en": "pending"},
    "approval.status_approved": {"zh": "已通过", "en": "approved"},
    "approval.status_rejected": {"zh": "已驳回", "en": "rejected"},
    "approval.status_withdrawn": {"zh": "已撤回", "en": "withdrawn"},
    "approval.status_returned": {"zh": "已退回拟稿人", "en": "returned to the drafter"},
    "approval.field_urgency": {"zh": "紧急程度", "en": "Urgency"},
    "approval.field_secrecy": {"zh": "密级", "en": "Classification"},
    "approval.field_doc_number": {"zh": "发文字号", "en": "Document number"},
    "approval.field_signatory": {"zh": "签发人", "en": "Signed off by"},
    # -- replies -------------------------------------------------------------------------
    "approval.started": {
        "zh": "已发起 {code}，已私信通知：{people}",
        "en": "{code} started; notified by direct message: {people}",
    },
    "approval.recorded": {
        "zh": "✅ 已记录 {user} 对 {code} 的同意，等待本步其他人。",
        "en": "✅ {user}'s approval of {code} is recorded; the rest of the step still has to decide.",
    },
    "approval.step_done_reply": {
        "zh": "✅ {code}「{step}」已完成，已转下一步：{people}",
        "en": "✅ {code} step '{step}' is done; on to the next step: {people}",
    },
    "approval.approved_reply": {"zh": "🎉 {code} 审批通过。", "en": "🎉 {code} is approved."},
    "approval.rejected_reply": {"zh": "❌ {code} 已驳回。理由：{reason}", "en": "❌ {code} rejected. Reason: {reason}"},
    "approval.transferred_reply": {
        "zh": "↪️ {code} 已由 {user} 转交给 {to}。",
        "en": "↪️ {user} handed {code} to {to}.",
    },
    "approval.added_reply": {
        "zh": "➕ 已为 {code} 加签 {who}（{where}）。",
        "en": "➕ {who} added to {code} ({where}).",
    },
    "approval.where_before": {"zh": "本步之前", "en": "before this step"},
    "approval.where_after": {"zh": "本步之后", "en": "after this step"},
    "approval.returned_reply": {
        "zh": "🔙 {code} 已退回「{step}」。理由：{reason}",
        "en": "🔙 {code} sent back to '{step}'. Reason: {reason}",
    },
    "approval.returned_drafter_reply": {
        "zh": "🔙 {code} 已退回拟稿人 {requester}。理由：{reason}",
        "en": "🔙 {code} sent back to the drafter {requester}. Reason: {reason}",
    },
    "approval.resubmitted_reply": {
        "zh": "🔁 {code} 已重新提交，从「{step}」开始。",
        "en": "🔁 {code} resubmitted, starting at '{step}'.",
    },
    "approval.withdrawn_reply": {"zh": "↩️ {code} 已撤回。", "en": "↩️ {code} withdrawn."},
    "approval.nudged_reply": {
        "zh": "📣 已催办 {code}：{people}",
        "en": "📣 Nudged about {code}: {people}",
    },
    "approval.body_added": {"zh": "📎 已补充到 {code} 的正文。", "en": "📎 Added to the text of {code}."},
    "approval.file_added": {"zh": "📎 已添加附件到 {code}：{name}", "en": "📎 Attached to {code}: {name}"},
    "approval.header_set": {"zh": "已设置 {code} 的{field}：{value}", "en": "{code}: {field} set to {value}"},
    "approval.export_title": {"zh": "📄 {code} 审批记录（Markdown）：", "en": "📄 Record of {code} (Markdown):"},
    "approval.export_docx": {"zh": "📄 {code} 审批记录（Word）", "en": "📄 Record of {code} (Word)"},
    "approval.list_waiting": {"zh": "⏳ 待我审批：", "en": "⏳ Waiting for me:"},
    "approval.list_started": {"zh": "📤 我发起的：", "en": "📤 Started by me:"},
    "approval.list_none": {"zh": "（无）", "en": "(none)"},
    "approval.list_waiting_on": {"zh": "（待{people}审批）", "en": " (waiting on {people})"},
    "approval.list_visible": {
        "zh": "📋 您可查看的审批（最近的在前）：",
        "en": "📋 Approvals you may see (newest first):",
    },
    "approval.list_item": {
        "zh": "{code} · {title} · {status}{step}",
        "en": "{code} · {title} · {status}{step}",
    },
    # -- mistakes ------------------------------------------------------------------------
    "approval.not_found": {"zh": "没有找到审批 {code}。", "en": "No approval {code}."},
    "approval.need_code": {
        "zh": "请写上审批编号（如 A12），或回复审批卡片。",
        "en": "Give the approval's number (e.g. A12), or reply to its card.",
    },
    "approval.other_room": {
        "zh": "{code} 不是在本群发起的，请到原群或私信中操作。",
        "en": "{code} was not started in this room; act on it there or in a direct message.",
    },
    "approval.not_visible": {
        "zh": "您不是 {code} 的发起人、审批人或抄送人。",
        "en": "You are not the requester, an approver or on the CC list of {code}.",
    },
    "approval.closed": {
        "zh": "{code} 已结束或已退回拟稿人，不能再这样操作。",
        "en": "{code} is closed or back with its drafter; that cannot be done now.",
    },
    "approval.header_frozen": {
        "zh": "{code} 已结束，其记录已定稿，密级、紧急程度、发文字号不能再修改。",
        "en": "{code} is final: its record is frozen, and its secrecy, urgency and document number can no longer change.",
    },
    "approval.not_approver": {
        "zh": "您不是 {code} 的审批人，不能审批。",
        "en": "You are not an approver of {code}.",
    },
    "approval.not_your_turn": {
        "zh": "{code} 还没到您（第 {n} 步），请等待前面的环节。",
        "en": "{code} has not reached you yet (step {n}); earlier steps come first.",
    },
    "approval.not_your_turn_named": {
        "zh": "{code} 还没到您（第 {n} 步「{name}」），请等待前面的环节。",
        "en": "{code} has not reached you yet (step {n}, '{name}'); earlier steps come first.",
    },
    "approval.already_decided": {
        "zh": "您已对 {code} 作出决定，决定不可更改。",
        "en": "You have already decided on {code}; a decision is final.",
    },
    # -- step-up confirmation of a binding step (签发 …) -----------------------------------
    # Where the chat's link cannot be given (the board): how to get one.
    "approval.confirm_needed": {
        "zh": "{code} 的“{step}”需要在手机上用通行密钥或动态验证码确认。请在聊天中对审批卡片回应 ✅，再打开回复中的链接确认。",
        "en": "'{step}' of {code} must be confirmed on your phone with a passkey or a one-time code: "
        "react ✅ to the approval card in chat, then open the link in the answer.",
    },
    "approval.confirm_link": {
        "zh": "{code} 的“{step}”需要在手机上确认，尚未作出决定。在手机上确认{step}：{link}（{minutes} 分钟内有效）。",
        "en": "'{step}' of {code} must be confirmed on your phone; nothing is decided yet. "
        "Confirm '{step}' on your phone: {link} (valid for {minutes} minutes).",
    },
    "approval.confirm_link_html": {
        "zh": "{code} 的“{step}”需要在手机上确认，尚未作出决定。"
        '<a href="{link}">在手机上确认{step}</a>（{minutes} 分钟内有效）。',
        "en": "'{step}' of {code} must be confirmed on your phone; nothing is decided yet. "
        "<a href=\"{link}\">Confirm '{step}' on your phone</a> (valid for {minutes} minutes).",
    },
    "approval.confirm_for": {"zh": "{user}，{text}", "en": "{user}, {text}"},
    "approval.confirm_moved_on": {
        "zh": "{code} 已不在您确认的这一步，确认未生效。",
        "en": "{code} has moved on from the step you confirmed; the confirmation did nothing.",
    },
    "approval.step_already_done": {
        "zh": "{code} 的第 {n} 步已由他人处理，无需您再审批。",
        "en": "Step {n} of {code} was already decided by someone else; nothing more to do.",
    },
    "approval.step_already_done_named": {
        "zh": "{code} 的第 {n} 步「{name}」已由他人处理，无需您再审批。",
        "en": "Step {n} ('{name}') of {code} was already decided by someone else; nothing more to do.",
    },
    "approval.self_approval_act": {
        "zh": "{code} 是您发起的，不能自己审批。",
        "en": "You started {code}; you cannot approve it yourself.",
    },
    "approval.need_reason": {
        "zh": "驳回或退回 {code} 需要写明理由。",
        "en": "Rejecting or returning {code} needs a reason.",
    },
    "approval.requester_only": {
        "zh": "只有 {code} 的发起人可以这样做。",
        "en": "Only the requester of {code} can do that.",
    },
    "approval.not_returned": {"zh": "{code} 没有被退回，无需重新提交。", "en": "{code} was not returned."},
    "approval.already_in_step": {
        "zh": "{user} 已在 {code} 的这一步中。",
        "en": "{user} is already in this step of {code}.",
    },
    "approval.addsign_where": {
        "zh": "加签位置请写 before（本步之前）或 after（本步之后）。",
        "en": "Say where to add: before or after the current step.",
    },
    "approval.need_person": {"zh": "请 @ 一位用户。", "en": "Mention one person."},
    "approval.nudge_too_soon": {
        "zh": "刚催办过 {code}，请 {minutes} 分钟后再试。",
        "en": "{code} was nudged a moment ago; try again in {minutes} minutes.",
    },
    "approval.unknown_field": {
        "zh": "未知字段“{field}”。可设置：紧急程度、密级、发文字号。",
        "en": "Unknown field '{field}'. You can set: urgency, secrecy, number.",
    },
    # -- DMs -----------------------------------------------------------------------------
    "approval.ask": {
        "zh": "📝 请审批 {code}：{title}\n发起人：{requester} · 环节：{step}{mode}\n"
        "回应 ✅ 同意，❌ 驳回；或发送 !同意 {code} 意见 / !驳回 {code} 理由",
        "en": "📝 Please decide on {code}: {title}\nRequested by {requester} · step: {step}{mode}\n"
        "React ✅ to approve, ❌ to reject; or send !approve {code} <opinion> / !reject {code} <reason>",
    },
    "approval.ask_transferred": {
        "zh": "📝 {user} 将 {code} 转交给您审批：{title}\n发起人：{requester} · 环节：{step}{mode}\n"
        "回应 ✅ 同意，❌ 驳回；或发送 !同意 {code} 意见 / !驳回 {code} 理由",
        "en": "📝 {user} handed {code} to you: {title}\nRequested by {requester} · step: {step}{mode}\n"
        "React ✅ to approve, ❌ to reject; or send !approve {code} <opinion> / !reject {code} <reason>",
    },
    "approval.ask_returned": {
        "zh": "🔙 {code} 被 {user} 退回，请重新审批：{title}\n退回理由：{reason}\n环节：{step}{mode}\n"
        "回应 ✅ 同意，❌ 驳回",
        "en": "🔙 {user} sent {code} back to you: {title}\nReason: {reason}\nStep: {step}{mode}\n"
        "React ✅ to approve, ❌ to reject",
    },
    "approval.told_approved_by": {
        "zh": "✅ {user} 同意了 {code}（{step}）：{title}\n意见：{opinion}",
        "en": "✅ {user} approved {code} ({step}): {title}\nOpinion: {opinion}",
    },
    "approval.told_rejected_by": {
        "zh": "❌ 您的审批 {code} 被 {user} 驳回（{step}），审批结束：{title}\n理由：{opinion}",
        "en": "❌ Your approval {code} was rejected by {user} ({step}); it has ended: {title}\nReason: {opinion}",
    },
    "approval.told_returned": {
        "zh": "🔙 {user} 将 {code} 退回到「{step}」：{title}\n理由：{reason}",
        "en": "🔙 {user} sent {code} back to '{step}': {title}\nReason: {reason}",
    },
    "approval.told_returned_drafter": {
        "zh": "🔙 {user} 将 {code} 退回给您（拟稿人）：{title}\n理由：{reason}\n修改后发送 !重新提交 {code}，或 !撤回 {code}。",
        "en": "🔙 {user} sent {code} back to you (the drafter): {title}\nReason: {reason}\n"
        "Send !resubmit {code} when ready, or !withdraw {code}.",
    },
    "approval.told_withdrawn": {
        "zh": "↩️ {code} 已被发起人撤回，无需再审批：{title}",
        "en": "↩️ {code} was withdrawn by its requester; no decision is needed: {title}",
    },
    # Edits of a DM notice once the approver no longer needs to act on it.
    "approval.notice_closed_by": {
        "zh": "☑️ 审批 {code}「{title}」（{step}）已由 {user} 处理（{decision}），无需您再操作。",
        "en": '☑️ Approval {code} "{title}" ({step}) was handled by {user} ({decision}); nothing more to do.',
    },
    "approval.notice_decided": {
        "zh": "☑️ 审批 {code}「{title}」（{step}）：您已{decision}，无需再操作。",
        "en": '☑️ Approval {code} "{title}" ({step}): you {decision}; nothing more to do.',
    },
    "approval.notice_withdrawn": {
        "zh": "↩️ 审批 {code}「{title}」已撤回，无需您再操作。",
        "en": '↩️ Approval {code} "{title}" was withdrawn; nothing more to do.',
    },
    "approval.notice_returned": {
        "zh": "🔙 审批 {code}「{title}」已由 {user} 退回，暂无需您操作；再次送达时会另行通知。",
        "en": '🔙 Approval {code} "{title}" was sent back by {user}; nothing to do until it comes back to you.',
    },
    "approval.notice_ended": {
        "zh": "🔒 审批 {code}「{title}」已结束（{status}），无需您再操作。",
        "en": '🔒 Approval {code} "{title}" has ended ({status}); nothing more to do.',
    },
    "approval.final_approved": {
        "zh": "🎉 您的审批 {code} 已通过：{title}",
        "en": "🎉 Your approval {code} is approved: {title}",
    },
    "approval.final_rejected": {
        "zh": "❌ 您的审批 {code} 被驳回：{title}\n理由：{reason}",
        "en": "❌ Your approval {code} was rejected: {title}\nReason: {reason}",
    },
    "approval.final_withdrawn": {"zh": "↩️ 您已撤回 {code}：{title}", "en": "↩️ You withdrew {code}: {title}"},
    "approval.cc_approved": {
        "zh": "📨 抄送：{requester} 发起的 {code} 已通过：{title}",
        "en": "📨 CC: {code} by {requester} is approved: {title}",
    },
    "approval.cc_rejected": {
        "zh": "📨 抄送：{requester} 发起的 {code} 被驳回：{title}\n理由：{reason}",
        "en": "📨 CC: {code} by {requester} was rejected: {title}\nReason: {reason}",
    },
    "approval.cc_withdrawn": {
        "zh": "📨 抄送：{requester} 撤回了 {code}：{title}",
        "en": "📨 CC: {requester} withdrew {code}: {title}",
    },
    "approval.nudged": {
        "zh": "📣 催办：{user} 提醒您尽快审批 {code}（{step}）：{title}\n回应 ✅ 同意，❌ 驳回",
        "en": "📣 Nudge: {user} asks you to decide on {code} ({step}): {title}\nReact ✅ to approve, ❌ to reject",
    },
    "approval.reminder": {
        "zh": "⏰ {code}（{step}）自 {since} 起等待您审批：{title}\n回应 ✅ 同意，❌ 驳回",
        "en": "⏰ {code} ({step}) has waited for you since {since}: {title}\nReact ✅ to approve, ❌ to reject",
    },
    "approval.stuck": {
        "zh": "⏰ 您的审批 {code}「{step}」自 {since} 起仍未处理，已多次提醒：{people}",
        "en": "⏰ Step '{step}' of your approval {code} has waited since {since}; reminded several times: {people}",
    },
    # -- the Markdown record -------------------------------------------------------------
    "approval.md_field": {"zh": "项目", "en": "Field"},
    "approval.md_value": {"zh": "内容", "en": "Value"},
    "approval.md_code": {"zh": "编号", "en": "Number"},
    "approval.md_requester": {"zh": "发起人（拟稿）", "en": "Requester (drafter)"},
    "approval.md_status": {"zh": "状态", "en": "Status"},
    "approval.md_created": {"zh": "发起时间", "en": "Started"},
    "approval.md_decided": {"zh": "办结时间", "en": "Closed"},
    "approval.md_body": {"zh": "正文", "en": "Text"},
    "approval.md_files": {"zh": "附件", "en": "Attachments"},
    "approval.md_chain": {"zh": "审批流程", "en": "Approval chain"},
    "approval.md_history": {"zh": "流转记录", "en": "History"},
    "approval.act_start": {"zh": "发起", "en": "started"},
    "approval.act_approve": {"zh": "同意", "en": "approved"},
    "approval.act_reject": {"zh": "驳回", "en": "rejected"},
    "approval.act_transfer": {"zh": "转交", "en": "handed on"},
    "approval.act_addsign_before": {"zh": "加签（前）", "en": "added a signer before"},
    "approval.act_addsign_after": {"zh": "加签（后）", "en": "added a signer after"},
    "approval.act_return": {"zh": "退回", "en": "sent back"},
    "approval.act_resubmit": {"zh": "重新提交", "en": "resubmitted"},
    "approval.act_withdraw": {"zh": "撤回", "en": "withdrew"},
    "approval.act_nudge": {"zh": "催办", "en": "nudged"},
    # -- the board's section ---------------------------------------------------------------
    "board.approvals.title": {"zh": "审批", "en": "Approvals"},
    "board.approvals.empty": {"zh": "没有待您处理的审批。", "en": "No approval waits for you."},
    "board.approvals.waiting": {"zh": "待我审批", "en": "Waiting for me"},
    "board.approvals.stuck": {"zh": "滞留审批", "en": "Stuck"},
    "board.approvals.mine": {"zh": "我发起的", "en": "Started by me"},
    "board.approvals.from": {"zh": "发起人：{user}", "en": "From: {user}"},
    "board.approvals.at_step": {"zh": "当前环节：{step}（已等待 {waited}）", "en": "At: {step} (waiting {waited})"},
    "board.approvals.waiting_on": {"zh": "待办人：{people}", "en": "Waiting on: {people}"},
    "board.approvals.returned": {"zh": "已退回，待您修改后重新提交。", "en": "Sent back: revise and resubmit."},
    "board.approvals.approve": {"zh": "同意", "en": "Approve"},
    "board.approvals.reject": {"zh": "驳回", "en": "Reject"},
}

TEXTS: dict[str, dict[str, str]] = {**TIME_TEXTS, **_OWN}


#: One text in `lang` (zh when it is missing), for services, timers and workers, which have no
#: chat translator at hand: the framework's own lookup (bot.i18n), over this catalog alone.
render = Catalog(TEXTS).t
