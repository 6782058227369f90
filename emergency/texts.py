"""Texts of the emergency feature (zh default, en), and `tr()` for services that run without a
chat context (timers in the worker), which pick the language of the incident or the person."""

from __future__ import annotations

from bot.i18n import Catalog

TEXTS: dict[str, dict[str, str]] = {
    "group.emergency": {"zh": "应急值守", "en": "Emergency and duty"},
    # -- roster ---------------------------------------------------------------------------
    "em.duty.now": {
        "zh": "🕘 当前值班（{start} 至 {end}）：带班领导 {leader}；值班员 {officers}",
        "en": "🕘 On duty now ({start} to {end}): duty leader {leader}; officers {officers}",
    },
    "em.duty.now.none": {"zh": "🕘 当前时段未排班。", "en": "🕘 Nobody is rostered for now."},
    "em.duty.next": {
        "zh": "⏭ 下一班（{start} 至 {end}）：带班领导 {leader}；值班员 {officers}",
        "en": "⏭ Next shift ({start} to {end}): duty leader {leader}; officers {officers}",
    },
    "em.duty.next.none": {"zh": "⏭ 下一班尚未排班。", "en": "⏭ The next shift is not rostered yet."},
    "em.duty.set_done": {
        "zh": "✅ 已排班：{start} 至 {end}，带班领导 {leader}，值班员 {officers}",
        "en": "✅ Shift set: {start} to {end}, duty leader {leader}, officers {officers}",
    },
    "em.duty.set_done.none": {"zh": "✅ 已排班。", "en": "✅ Shift set."},
    "em.duty.replaced": {
        "zh": "（替换了重叠的 {count} 个班次）",
        "en": "(replaced {count} overlapping shifts)",
        "en_one": "(replaced 1 overlapping shift)",
    },
    "em.duty.configured": {
        "zh": "按配置的值班角色：带班领导 {leader}；值班员 {officers}",
        "en": "By the configured duty roles: duty leader {leader}; officers {officers}",
    },
    "em.duty.last_handover": {
        "zh": "📝 最近交接班 {id}（{user}）：{notes} —— {state}",
        "en": "📝 Last hand-over {id} ({user}): {notes} — {state}",
    },
    "em.duty.nobody": {"zh": "请至少指定带班领导或一名值班员。", "en": "Name at least a duty leader or one officer."},
    "em.duty.bad_span": {"zh": "结束时间必须晚于开始时间。", "en": "The end must be after the start."},
    "em.duty.too_long": {"zh": "一个班次最长 7 天。", "en": "A shift lasts at most 7 days."},
    "em.duty.set_grammar": {
        "zh": "请写明时间和人员，例如：!值班 设置 明天 带班 @zhang 值班员 @li @wang",
        "en": "Give the time and the people, e.g. !duty set tomorrow leader @zhang officers @li @wang",
    },
    "em.duty.not_allowed": {
        "zh": "只有带班领导或管理员可以排班。",
        "en": "Only a duty leader or an admin may set the roster.",
    },
    "em.duty.staff_only": {
        "zh": "此操作仅限值班人员（在班人员或值班角色）。",
        "en": "Only duty staff (on shift, or with a duty role) may do this.",
    },
    # -- CSV --------------------------------------------------------------------------------
    "em.csv.columns": {
        "zh": "缺少列：{missing}。表头应为 date,start,end,leader,officers[,note]",
        "en": "Missing columns: {missing}. The header must be date,start,end,leader,officers[,note]",
    },
    "em.csv.overlap": {"zh": "与第 {other} 行的班次时间重叠", "en": "overlaps the shift on line {other}"},
    "em.csv.bad_date": {"zh": "日期“{value}”应为 YYYY-MM-DD", "en": "date '{value}' must be YYYY-MM-DD"},
    "em.csv.date_range": {
        "zh": "日期“{value}”超出范围：只能排前后 {years} 年之内的班",
        "en": "date '{value}' is out of range: shifts must be within {years} years of today",
    },
    "em.csv.unreadable": {
        "zh": "无法按 CSV 读取（引号或字符有误），请用表格软件另存为 CSV 后重试",
        "en": "cannot be read as CSV (a stray quote or character); save it as CSV from a spreadsheet and retry",
    },
    "em.csv.too_many": {
        "zh": "行数超过上限 {limit}，请分成几个文件导入",
        "en": "more than {limit} lines; split the roster into several files",
    },
    "em.csv.bad_time": {"zh": "时间“{value}”应为 HH:MM", "en": "time '{value}' must be HH:MM"},
    "em.csv.bad_user": {"zh": "“{value}”不是有效的账号", "en": "'{value}' is not a valid user"},
    "em.csv.nobody": {"zh": "没有带班领导也没有值班员", "en": "neither a duty leader nor officers"},
    "em.csv.bad_phone": {"zh": "电话“{value}”不是有效的号码", "en": "phone '{value}' is not a valid number"},
    "em.csv.phone_who": {
        "zh": "电话“{value}”不知是谁的：写带班领导的号码，或写成 账号=号码（须是本行的人）",
        "en": "phone '{value}' belongs to nobody: give the leader's number, or user=number for someone on the line",
    },
    # A phone number from the roster, after the person's name (escalations, !值班).
    "em.phone": {"zh": "（{phone}）", "en": " ({phone})"},
    "em.csv.rejected": {
        "zh": "值班表有 {count} 行错误，未导入任何班次。",
        "en": "The roster has {count} bad lines; nothing was imported.",
        "en_one": "The roster has 1 bad line; nothing was imported.",
    },
    "em.csv.empty": {"zh": "值班表没有任何班次。", "en": "The roster has no shifts."},
    "em.csv.errors_head": {
        "zh": "⚠️ 值班表有 {count} 行错误，未导入，请改正后重新上传：",
        "en": "⚠️ The roster has {count} bad lines and was not imported; fix them and upload again:",
        "en_one": "⚠️ The roster has 1 bad line and was not imported; fix it and upload again:",
    },
    "em.csv.line": {"zh": "第 {line} 行：{error}", "en": "line {line}: {error}"},
    "em.csv.imported": {
        "zh": "✅ 已导入 {count} 个班次。",
        "en": "✅ Imported {count} shifts.",
        "en_one": "✅ Imported 1 shift.",
    },
    "em.csv.too_large": {
        "zh": "值班表文件过大（{size_kb} KB），上限为 {limit_kb} KB，未导入；请分成几个文件上传。",
        "en": "The roster file is too large ({size_kb} KB; the limit is {limit_kb} KB) and was not imported; "
        "split it into several files.",
    },
    # -- hand-over --------------------------------------------------------------------------
    "em.handover.empty": {"zh": "请写明交接事项。", "en": "Write what you hand over."},
    "em.handover.posted": {
        "zh": "📝 交接班 {id}：{notes}\n下一班 {to} 请点 ✅ 确认接班。",
        "en": "📝 Hand-over {id}: {notes}\nNext shift {to}: react ✅ to take over.",
    },
    "em.handover.next_unknown": {"zh": "（未排班）", "en": "(not rostered)"},
    "em.handover.dm": {
        "zh": "📝 {user} 交接班 {id}：{notes}\n请在值班群的交接消息上点 ✅ 确认。",
        "en": "📝 {user} handed over ({id}): {notes}\nReact ✅ on the hand-over message in the duty room.",
    },
    "em.handover.acked": {"zh": "✅ {user} 已确认接班（{id}）。", "en": "✅ {user} took over ({id})."},
    "em.handover.acked_by": {"zh": "{user} 已确认", "en": "acknowledged by {user}"},
    "em.handover.pending": {"zh": "待下一班确认", "en": "awaiting the next shift's ✅"},
    "em.handover.not_found": {"zh": "没有交接记录 {id}。", "en": "No hand-over {id}."},
    "em.handover.not_yours": {
        "zh": "交接班 {id} 应由下一班人员确认。",
        "en": "Hand-over {id} is for the next shift to acknowledge.",
    },
    "em.handover.own": {"zh": "不能确认自己的交接班。", "en": "You cannot acknowledge your own hand-over."},
    # -- duty log ---------------------------------------------------------------------------
    "em.log.empty": {"zh": "请写明来报内容。", "en": "Write what was reported."},
    "em.log.recorded": {
        "zh": "🗒 已记录 {id}：{at}，来源 {source}，报告人 {reporter}（{contact}），已告知 {told}。",
        "en": "🗒 Logged {id}: {at}, source {source}, reporter {reporter} ({contact}), told {told}.",
    },
    "em.log.none": {"zh": "最近 24 小时没有值班记录。", "en": "No duty-log entries in the last 24 hours."},
    "em.log.head": {"zh": "🗒 最近 24 小时值班记录（{count} 条）：", "en": "🗒 Duty log, last 24 hours ({count}):"},
    "em.log.line": {
        "zh": "{id} {at} 来源：{source} 报告人：{reporter}（{contact}）{content} · 已告知 {told} · 记录人 {by}",
        "en": "{id} {at} source: {source}, reporter: {reporter} ({contact}) {content} · told {told} · by {by}",
    },
    # -- incidents --------------------------------------------------------------------------
    "em.incident.grade_missing": {"zh": "请给出事件等级（Ⅰ–Ⅳ 或 1–4）。", "en": "Give the grade (I–IV or 1–4)."},
    "em.incident.bad_grade": {
        "zh": "“{value}”不是有效的等级，请用 Ⅰ–Ⅳ 或 1–4。",
        "en": "'{value}' is not a grade; use I–IV or 1–4.",
    },
    "em.incident.no_title": {"zh": "请写明事件标题。", "en": "Give the incident a title."},
    "em.incident.unknown_sub": {"zh": "不认识的操作“{value}”。", "en": "Unknown action '{value}'."},
    "em.incident.declare_not_allowed": {
        "zh": "只有值班人员、领导或管理员可以启动应急事件。",
        "en": "Only duty staff, leaders or admins may declare an incident.",
    },
    "em.incident.topic": {"zh": "应急事件 {id}：{title}", "en": "Incident {id}: {title}"},
    "em.incident.declared": {
        "zh": "🚨 已启动 {grade}级应急事件 {id}（{category}）：{title}\n"
        "事件群已建立并邀请 {count} 人。首报须在 {due} 前报送。",
        "en": "🚨 Grade {grade} incident {id} declared ({category}): {title}\n"
        "Incident room created; {count} people invited. The first report is due by {due}.",
        "en_one": "🚨 Grade {grade} incident {id} declared ({category}): {title}\n"
        "Incident room created; 1 person invited. The first report is due by {due}.",
    },
    "em.incident.duty_room": {
        "zh": "🚨 {grade}级应急事件 {id}（{category}）：{title}。首报截止 {due}。",
        "en": "🚨 Grade {grade} incident {id} ({category}): {title}. First report due {due}.",
    },
    "em.incident.alert_dm": {
        "zh": "🚨 {grade}级应急事件 {id}（{category}）：{title}\n启动人：{by}\n事件群：{link}\n"
        "您已被邀请进入事件群，请立即加入，并在本消息上点 ✅ 确认收到。",
        "en": "🚨 Grade {grade} incident {id} ({category}): {title}\nDeclared by {by}\nIncident room: {link}\n"
        "You are invited to the incident room: join now, and react ✅ to this message to acknowledge.",
    },
    "em.incident.alert_acked": {
        "zh": "✅ 已确认收到 {id} 启动通知。",
        "en": "✅ You acknowledged the alert of {id}.",
    },
    "em.incident.no_class_note": {
        "zh": "⚠️ 未指定类别，未邀请按类别配置的处置人员；用 !应急 类别 {id} 自然灾害 补充后自动邀请"
        "（类别：自然灾害 / 事故灾难 / 公共卫生 / 社会安全）",
        "en": "⚠️ No class given, so the responders configured by class were not invited; "
        "!incident class {id} natural sets it and invites them (natural / accident / health / security)",
    },
    "em.incident.bad_class": {
        "zh": "“{value}”不是有效的类别，请用：自然灾害 / 事故灾难 / 公共卫生 / 社会安全。",
        "en": "'{value}' is not a class; use natural, accident, health or security.",
    },
    "em.incident.same_class": {"zh": "事件已是“{category}”类别。", "en": "The incident is already '{category}'."},
    "em.incident.class_set": {
        "zh": "✅ {id} 类别：{before} → {after}。已邀请处置人员 {count} 人：{users}",
        "en": "✅ {id} class: {before} → {after}. Responders invited ({count}): {users}",
    },
    "em.incident.class_set_nobody": {
        "zh": "✅ {id} 类别：{before} → {after}。没有需要新邀请的处置人员（此类别和等级未配置，或已在事件群）。",
        "en": "✅ {id} class: {before} → {after}. No responder to invite (none configured for this class "
        "and grade, or all are in already).",
    },
    "em.incident.not_found": {"zh": "没有事件 {id}。", "en": "No incident {id}."},
    "em.incident.not_here": {
        "zh": "这里不是事件群；请在事件群内操作，或写明事件编号（如 E5）。",
        "en": "This is not an incident room; use it there, or name the incident (e.g. E5).",
    },
    "em.incident.closed": {"zh": "事件 {id} 已关闭。", "en": "Incident {id} is closed."},
    "em.incident.not_allowed": {
        "zh": "只有指挥长、带班领导或管理员可以调整事件 {id}。",
        "en": "Only the commander, a duty leader or an admin may change incident {id}.",
    },
    "em.incident.close_not_allowed": {
        "zh": "只有指挥长、带班领导或管理员可以关闭事件 {id}。",
        "en": "Only the commander, a duty leader or an admin may close incident {id}.",
    },
    "em.incident.same_grade": {"zh": "事件已是 {grade} 级。", "en": "The incident is already grade {grade}."},
    "em.incident.grade_changed": {
        "zh": "⚠️ 事件 {id} 等级由 {before} 级调整为 {after} 级；下一份报告截止 {due}。",
        "en": "⚠️ Incident {id} changed from grade {before} to {after}; next report due {due}.",
    },
    "em.incident.closed_reply": {
        "zh": "✅ 事件 {id} 已关闭，终结报告已发到事件群。",
        "en": "✅ Incident {id} closed; the final report is in its room.",
    },
    "em.incident.closed_duty": {"zh": "✅ 应急事件 {id} 已关闭。", "en": "✅ Incident {id} is closed."},
    "em.confirm.close_step": {"zh": "关闭事件", "en": "closing the incident"},
    "em.confirm.refused": {
        "zh": "这项确认未能完成，未作任何改动。请回到聊天中查看当前状态后重新办理。",
        "en": "This confirmation could not be completed and nothing was changed. Please check the "
        "current state in chat and start again there.",
    },
    "em.confirm.declare_step": {"zh": "启动{grade}级响应", "en": "declaring a grade {grade} incident"},
    "em.confirm.declare_link": {
        "zh": "启动{grade}级响应“{title}”需要在手机上确认，尚未启动。在手机上确认启动：{link}（{minutes} 分钟内有效）。",
        "en": "Declaring the grade {grade} incident '{title}' must be confirmed on your phone; nothing is declared yet. "
        "Confirm it on your phone: {link} (valid for {minutes} minutes).",
    },
    "em.confirm.declare_link_html": {
        "zh": '启动{grade}级响应“{title}”需要在手机上确认，尚未启动。<a href="{link}">在手机上确认启动</a>（{minutes} 分钟内有效）。',
        "en": "Declaring the grade {grade} incident '{title}' must be confirmed on your phone; nothing is declared yet. "
        '<a href="{link}">Confirm it on your phone</a> (valid for {minutes} minutes).',
    },
    "em.confirm.close_link": {
        "zh": "关闭事件 {id} 需要在手机上确认，事件尚未关闭。在手机上确认关闭：{link}（{minutes} 分钟内有效）。",
        "en": "Closing incident {id} must be confirmed on your phone; it is still open. "
        "Confirm the close on your phone: {link} (valid for {minutes} minutes).",
    },
    "em.confirm.close_link_html": {
        "zh": '关闭事件 {id} 需要在手机上确认，事件尚未关闭。<a href="{link}">在手机上确认关闭</a>（{minutes} 分钟内有效）。',
        "en": "Closing incident {id} must be confirmed on your phone; it is still open. "
        '<a href="{link}">Confirm the close on your phone</a> (valid for {minutes} minutes).',
    },
    "em.incident.none_open": {"zh": "当前没有进行中的应急事件。", "en": "No open incidents."},
    "em.incident.list_head": {"zh": "进行中的应急事件（{count}）：", "en": "Open incidents ({count}):"},
    "em.incident.list_line": {
        "zh": "{id} {grade}级 {category} {title}（{at}）",
        "en": "{id} grade {grade} {category} {title} ({at})",
    },
    # -- roles ------------------------------------------------------------------------------
    "em.role.commander": {"zh": "指挥长", "en": "Commander"},
    "em.role.deputy": {"zh": "副指挥长", "en": "Deputy commander"},
    "em.role.liaison": {"zh": "联络员", "en": "Liaison"},
    "em.role.recorder": {"zh": "记录员", "en": "Recorder"},
    "em.role.spokesperson": {"zh": "新闻发言人", "en": "Spokesperson"},
    "em.role.duty_leader": {"zh": "带班领导", "en": "Duty leader"},
    "em.role.unknown": {
        "zh": "不认识的角色“{role}”。可选：指挥长、副指挥长、联络员、记录员、发言人。",
        "en": "Unknown role '{role}'. Choose commander, deputy, liaison, recorder or spokesperson.",
    },
    "em.role.nobody": {"zh": "请 @ 要指定的人。", "en": "Mention the person to give the role to."},
    "em.role.not_allowed": {
        "zh": "只有指挥长、带班领导或管理员可以指定事件 {id} 的角色。",
        "en": "Only the commander, a duty leader or an admin may give roles in {id}.",
    },
    "em.role.announced": {"zh": "📣 {id}：{role} —— {users}", "en": "📣 {id}: {role} — {users}"},
    # -- timeline ---------------------------------------------------------------------------
    "em.timeline.head": {"zh": "🗂 {id} {title} 时间线（{count} 条）：", "en": "🗂 {id} {title} timeline ({count}):"},
    "em.timeline.line": {"zh": "{at} · {actor} · {text}", "en": "{at} · {actor} · {text}"},
    "em.tl.declared": {
        "zh": "启动 {grade}级应急（{category}）：{title}",
        "en": "Declared grade {grade} ({category}): {title}",
    },
    "em.tl.role": {"zh": "{role}：{users}", "en": "{role}: {users}"},
    "em.tl.grade": {"zh": "等级 {before} → {after}", "en": "Grade {before} → {after}"},
    "em.tl.class": {
        "zh": "类别 {before} → {after}，邀请处置人员：{users}",
        "en": "Class {before} → {after}; responders invited: {users}",
    },
    "em.tl.alert_ack": {"zh": "{user} 确认收到启动通知", "en": "{user} acknowledged the alert"},
    "em.tl.closed": {"zh": "事件关闭", "en": "Incident closed"},
    "em.tl.report": {"zh": "报送{name}{late}", "en": "Filed the {name}{late}"},
    "em.tl.overdue": {
        "zh": "{name}到时未报，已上报带班领导",
        "en": "{name} not filed by its deadline; escalated to the duty leader",
    },
    "em.tl.order": {"zh": "指令 {id} → {users}：{text}", "en": "Order {id} → {users}: {text}"},
    "em.tl.ack": {"zh": "{user} 确认收到 {id}", "en": "{user} acknowledged {id}"},
    "em.tl.done": {"zh": "{user} 完成 {id}：{note}", "en": "{user} completed {id}: {note}"},
    "em.tl.nag_escalated": {
        "zh": "{user} 在 {minutes} 分钟内未确认 {id}，已告知指挥长",
        "en": "{user} has not acknowledged {id} for {minutes} min; the commander was told",
    },
    "em.tl.pinned": {"zh": "📌 {sender}：{text}", "en": "📌 {sender}: {text}"},
    "em.tl.log": {"zh": "值班记录 {id}：{content}", "en": "Duty log {id}: {content}"},
    # -- report clocks ----------------------------------------------------------------------
    "em.clock.remind": {
        "zh": "⏰ {id} {name}将于 {due} 截止，请及时报送（!报告）。",
        "en": "⏰ {id}: the {name} is due at {due} (!report).",
    },
    "em.clock.overdue_room": {
        "zh": "🔴 {id} {name}已超时 {minutes} 分钟（迟报），已上报带班领导。",
        "en": "🔴 {id}: the {name} is {minutes} min late; the duty leader has been told.",
    },
    "em.clock.overdue_dm": {
        "zh": "🔴 迟报：{id} {title} 的{name}已超时 {minutes} 分钟未报送。{contact}",
        "en": "🔴 Late: the {name} of {id} {title} is {minutes} min overdue.{contact}",
    },
    # At the deadline itself the report is not late yet: it is due and not in.
    "em.clock.due_now_room": {
        "zh": "🔴 {id} {name}已到时限，尚未报送，已上报带班领导。",
        "en": "🔴 {id}: the {name} is due now and not filed; the duty leader has been told.",
    },
    "em.clock.due_now_dm": {
        "zh": "🔴 {id} {title} 的{name}已到时限，尚未报送。{contact}",
        "en": "🔴 The {name} of {id} {title} is due now and not filed.{contact}",
    },
    # Whom the duty leader told of a late report can call (with the roster's number).
    "em.clock.contact": {"zh": "请联系指挥长：{people}。", "en": " Call the commander: {people}."},
    "em.push.overdue": {"zh": "到时未报：{id} {name}", "en": "Report not filed: {id} {name}"},
    "em.push.declared": {"zh": "🚨 {grade}级应急 {id}", "en": "🚨 Grade {grade} incident {id}"},
    "em.push.nag": {"zh": "请确认指令 {id}", "en": "Acknowledge order {id}"},
    "em.push.order": {"zh": "新指令 {id}", "en": "New order {id}"},
    "em.push.alert": {"zh": "🚨 紧急通知 {id}", "en": "🚨 Alert {id}"},
    # -- reports ----------------------------------------------------------------------------
    "em.report.name.first": {"zh": "首报", "en": "first report"},
    "em.report.name.update": {"zh": "续报{n}", "en": "update {n}"},
    "em.report.name.final": {"zh": "终报", "en": "final report"},
    "em.report.late_mark": {"zh": "【迟报】", "en": "[LATE]"},
    "em.report.not_in_incident": {
        "zh": "请在事件群内报送报告。",
        "en": "File reports in the incident room.",
    },
    "em.report.bad_kind": {
        "zh": "请写明报告类型：首报、续报或终报（“{value}”不对）。",
        "en": "Say which report: first, update or final ('{value}' is not one).",
    },
    "em.report.first_exists": {
        "zh": "{id} 已有首报，请报送续报。",
        "en": "{id} already has its first report; file an update.",
    },
    "em.report.first_missing": {
        "zh": "{id} 还没有首报，请先报送首报。",
        "en": "{id} has no first report yet; file it first.",
    },
    "em.report.final_exists": {"zh": "{id} 已报送终报。", "en": "{id} already has its final report."},
    "em.report.start": {
        "zh": "📝 开始填写 {id} {name}。回复“跳过”跳过一项，“取消”放弃。",
        "en": "📝 Filling in the {name} of {id}. Answer 'skip' to skip a field, 'cancel' to give up.",
    },
    "em.report.ask": {"zh": "请填写【{field}】{hint}", "en": "Please give the {field} {hint}"},
    "em.report.cancelled": {"zh": "已取消，报告未报送。", "en": "Cancelled; nothing was filed."},
    "em.report.too_long": {
        "zh": "这段回答有 {size} 字，放不下：一份报告各项合计不超过 {limit} 字，这一项最多还能写 {left} 字。"
        "这段未记录，问题不变：请精简后重新回答，或回复“跳过”。",
        "en": "This answer is {size} characters and does not fit: a report takes {limit} characters in all, "
        "so {left} are left for it. Nothing of it was recorded and the question stands: shorten it and "
        "answer again, or say 'skip'.",
    },
    "em.report.voice_hint": {
        "zh": "🎙️ 收到语音，正在转写。转写出来后在转写上点 ✅ 或回复“采用”，填入【{field}】"
        "（说“地点：… 影响：…”可一次填多项）；也可以直接打字。",
        "en": "🎙️ Got your voice message; transcribing. Once the text is there, react ✅ to it or answer 'use' "
        "to fill in the {field} (say 'place: … impact: …' to fill several), or just type.",
    },
    "em.report.voice_waiting": {
        "zh": "⏳ 语音还在转写，请稍候再回复“采用”。",
        "en": "⏳ Still transcribing your voice message; answer 'use' again in a moment.",
    },
    "em.report.voice_none": {
        "zh": "⚠️ 报告开始后没有收到您的语音，请发语音或直接打字回答。",
        "en": "⚠️ No voice message from you since this report began: speak or type the answer.",
    },
    "em.report.voice_failed": {
        "zh": "⚠️ 您的语音没能转写成文字，请再说一遍或直接打字。",
        "en": "⚠️ Your voice message could not be transcribed: say it again or type it.",
    },
    "em.report.voice_used": {
        "zh": "✅ 已采用语音填入：{fields}",
        "en": "✅ Filled in from your voice message: {fields}",
    },
    "em.report.filed": {"zh": "📄 已报送{name}{late}", "en": "📄 Filed the {name}{late}"},
    "em.report.was_due": {"zh": "（应于 {due} 前报送）", "en": "(it was due by {due})"},
    "em.report.next_due": {"zh": "下一份{name}截止：{due}", "en": "The next {name} is due by {due}"},
    "em.field.report_time": {"zh": "报告时间", "en": "Report time"},
    "em.field.event_time": {"zh": "事发时间", "en": "Event time"},
    "em.field.place": {"zh": "事发地点", "en": "Place"},
    "em.field.nature": {"zh": "事件类别和性质", "en": "Class and nature"},
    "em.field.impact": {"zh": "影响范围", "en": "Impact"},
    "em.field.casualties": {"zh": "人员伤亡和财产损失", "en": "Casualties and losses"},
    "em.field.measures": {"zh": "已采取的措施", "en": "Measures taken"},
    "em.field.needs": {"zh": "需求和请求", "en": "Needs and requests"},
    "em.field.reporter": {"zh": "报告人及联系方式", "en": "Reporter and contact"},
    "em.hint.event_time": {"zh": "（如：今天14:20）", "en": "(e.g. today 14:20)"},
    "em.hint.place": {"zh": "（尽量具体到街道、门牌）", "en": "(as precise as you can)"},
    "em.hint.nature": {"zh": "（如：暴雨内涝，自然灾害）", "en": "(e.g. flooding after rainstorm)"},
    "em.hint.impact": {"zh": "（涉及区域、人数、交通等）", "en": "(area, people, traffic…)"},
    "em.hint.casualties": {"zh": "（无则填“无”）", "en": "(say 'none' if none)"},
    "em.hint.measures": {"zh": "", "en": ""},
    "em.hint.needs": {"zh": "（需要上级支持的事项）", "en": "(what you need from above)"},
    "em.hint.reporter": {"zh": "（姓名 + 电话）", "en": "(name and phone)"},
    # -- orders and alerts ------------------------------------------------------------------
    "em.order.no_recipients": {"zh": "请 @ 指令的接收人。", "en": "Mention who the order is for."},
    "em.order.no_text": {"zh": "请写明内容。", "en": "Write the instruction."},
    "em.order.not_in_incident": {"zh": "请在事件群内下达指令。", "en": "Issue orders in the incident room."},
    "em.order.not_allowed": {
        "zh": "只有指挥长、值班人员或管理员可以在 {id} 下达指令。",
        "en": "Only the commander, duty staff or an admin may issue orders in {id}.",
    },
    "em.order.bad_id": {
        "zh": "请写明指令编号，如 O9（“{value}”不对）。",
        "en": "Name the order, e.g. O9 ('{value}' is not one).",
    },
    "em.order.not_found": {"zh": "没有指令 {id}。", "en": "No order {id}."},
    "em.order.not_recipient": {"zh": "您不是指令 {id} 的接收人。", "en": "Order {id} is not addressed to you."},
    "em.order.already_done": {"zh": "您已报告完成 {id}。", "en": "You already reported {id} done."},
    "em.order.acked": {"zh": "✅ 已确认收到 {id}。", "en": "✅ {id} acknowledged."},
    "em.order.already_acked": {"zh": "您之前已确认 {id}。", "en": "You had already acknowledged {id}."},
    # Edits of an order's DM (and its reminders) once the recipient acted on it.
    "em.order.dm_acked": {
        "zh": "✅ 您已确认{kind} {id}：{text}\n完成后发送 !已完成 {id} <说明>。",
        "en": "✅ You acknowledged {kind} {id}: {text}\nWhen done, send !done {id} <note>.",
    },
    "em.order.dm_done": {"zh": "☑️ 您已完成{kind} {id}：{text}", "en": "☑️ You finished {kind} {id}: {text}"},
    "em.kind.order": {"zh": "指令", "en": "order"},
    "em.kind.alert": {"zh": "紧急通知", "en": "alert"},
    "em.order.done": {"zh": "☑️ {id} 已记录完成。", "en": "☑️ {id} recorded as done."},
    "em.order.dm": {
        "zh": "📢 {where}指令 {id}（{by}）：{text}\n请点 ✅ 或回复 !收到 {id} 确认；完成后 !已完成 {id} <说明>。{link}",
        "en": "📢 {where}Order {id} ({by}): {text}\nReact ✅ or send !ack {id}; when done, !done {id} <note>.{link}",
    },
    "em.order.where": {"zh": "【{id} {title}】", "en": "[{id} {title}] "},
    "em.order.link": {"zh": "\n事件群：{url}", "en": "\nIncident room: {url}"},
    "em.alert.dm": {
        "zh": "🚨 紧急通知 {id}（{by}）：{text}\n请点 ✅ 或回复 !收到 {id} 确认。",
        "en": "🚨 Alert {id} ({by}): {text}\nReact ✅ or send !ack {id}.",
    },
    "em.order.nag_dm": {
        "zh": "⏰ {where}指令 {id} 已下达 {minutes} 分钟，您尚未确认：{text}\n请点 ✅ 或回复 !收到 {id}。{link}",
        "en": "⏰ {where}Order {id} ({minutes} min ago) is not acknowledged yet: {text}\n"
        "React ✅ or send !ack {id}.{link}",
    },
    "em.order.escalate_dm": {
        "zh": "⚠️ {where}{user} 在 {minutes} 分钟内未确认指令 {id}：{text}{link}",
        "en": "⚠️ {where}{user} has not acknowledged order {id} for {minutes} min: {text}{link}",
    },
    "em.order.escalate_room": {
        "zh": "⚠️ {user} 在 {minutes} 分钟内未确认指令 {id}，已告知指挥长。",
        "en": "⚠️ {user} has not acknowledged order {id} for {minutes} min; the commander was told.",
    },
    "em.orders.none": {"zh": "{id} 还没有指令。", "en": "No orders in {id} yet."},
    "em.alert.sent": {
        "zh": "🚨 紧急通知 {id} 已通知 {count} 人，等待确认。",
        "en": "🚨 Alert {id} sent to {count} people; awaiting acknowledgements.",
        "en_one": "🚨 Alert {id} sent to 1 person; awaiting the acknowledgement.",
    },
    # -- cards --------------------------------------------------------------------------------
    "em.card.title": {"zh": "🚨 {id} {grade}级应急：{title}", "en": "🚨 {id} grade {grade}: {title}"},
    "em.card.meta": {
        "zh": "类别：{category} · 状态：{status} · 启动：{at}",
        "en": "Class: {category} · status: {status} · declared {at}",
    },
    "em.card.status.open": {"zh": "处置中", "en": "open"},
    "em.card.no_class": {"zh": "未指定", "en": "not given"},
    "em.card.declared_by": {"zh": "启动人：{user}", "en": "Declared by {user}"},
    "em.card.alert_acks": {"zh": "启动通知确认 {acked}/{total}", "en": "Alert acknowledged {acked}/{total}"},
    "em.card.alert_waiting": {"zh": "，未确认：{users}", "en": "; not yet: {users}"},
    "em.card.status.closed": {"zh": "已关闭", "en": "closed"},
    "em.card.role": {"zh": "{role}：{users}", "en": "{role}: {users}"},
    "em.card.reports": {
        "zh": "已报送报告 {count} 份（迟报 {late}）· 指令 {orders} 条",
        "en": "Reports filed: {count} (late: {late}) · orders: {orders}",
    },
    "em.card.next": {"zh": "⏰ 下一份：{name}，截止 {due}", "en": "⏰ Next: {name}, due {due}"},
    "em.card.next_overdue": {"zh": "🔴 {name}已超时（截止 {due}）", "en": "🔴 {name} overdue (was due {due})"},
    "em.card.hint": {
        "zh": "!报告 首报|续报|终报 · !指令 @人 内容 · !角色 · !时间线 · 📌 加入时间线",
        "en": "!report first|update|final · !order @who text · !role · !timeline · 📌 adds to the timeline",
    },
    "em.card.order_title": {"zh": "📢 指令 {id}（{by}）", "en": "📢 Order {id} ({by})"},
    "em.card.alert_title": {"zh": "🚨 紧急通知 {id}（{by}）", "en": "🚨 Alert {id} ({by})"},
    "em.card.order_progress": {
        "zh": "确认 {acked}/{total} · 完成 {done}/{total}",
        "en": "Acknowledged {acked}/{total} · done {done}/{total}",
    },
    # The columns of an order's receipt table.
    "em.card.col.person": {"zh": "接收人", "en": "Recipient"},
    "em.card.col.delivered": {"zh": "送达", "en": "delivered"},
    "em.card.col.read": {"zh": "已读", "en": "read"},
    "em.card.col.acked": {"zh": "确认", "en": "acked"},
    "em.card.col.done": {"zh": "完成", "en": "done"},
    "em.card.nags": {"zh": "（已催 {n} 次）", "en": "(nagged {n}×)"},
    "em.card.order_hint": {
        "zh": "点 ✅ 或 !收到 {id} 确认；完成后 !已完成 {id} <说明>。（已读：私信的已读回执或确认）",
        "en": "React ✅ or !ack {id}; when done, !done {id} <note>. (read: a read receipt on the DM, or the ✅)",
    },
    # -- final report -------------------------------------------------------------------------
    "em.final.title": {"zh": "{id} {title} 处置终结报告", "en": "{id} {title}: final report"},
    "em.final.meta": {"zh": "等级：{grade}级 · 类别：{category}", "en": "Grade {grade} · class: {category}"},
    "em.final.span": {"zh": "启动：{start} · 关闭：{end}", "en": "Declared {start} · closed {end}"},
    "em.final.roles": {"zh": "组织指挥", "en": "Command"},
    "em.final.reports": {"zh": "信息报送", "en": "Reports"},
    "em.final.orders": {"zh": "指令及回执", "en": "Orders and receipts"},
    "em.final.timeline": {"zh": "时间线", "en": "Timeline"},
    "em.final.none": {"zh": "（无）", "en": "(none)"},
    "em.final.due": {"zh": "应报时间", "en": "Due by"},
    "em.final.filed_by": {"zh": "报送人", "en": "Filed by"},
    "em.final.order_line": {
        "zh": "{id} {text}（确认 {acked}/{total}，完成 {done}/{total}）",
        "en": "{id} {text} (acknowledged {acked}/{total}, done {done}/{total})",
    },
    "em.final.file_name": {"zh": "{id} 终报：{title}", "en": "{id} final report - {title}"},
    # A report's or a card's field, "名称：内容": a full-width colon in Chinese.
    "em.field.line": {"zh": "{name}：{value}", "en": "{name}: {value}"},
    # Who wrote a timeline entry when it was Zhiban itself (a deadline passed, a nag escalated).
    "em.actor.system": {"zh": "值班助手", "en": "Zhiban"},
    # -- the board's sections ------------------------------------------------------------------
    "board.em.title": {"zh": "应急", "en": "Emergency"},
    "board.em.empty": {
        "zh": "没有进行中的事件或待确认的指令。",
        "en": "No open incident and no order awaiting receipt.",
    },
    "board.em.grade": {"zh": "{grade}级", "en": "Grade {grade}"},
    "board.em.age": {"zh": "{grade}级 · 已持续 {age}", "en": "Grade {grade} · open for {age}"},
    "board.em.next": {
        "zh": "⏰ 下一份：{name}，截止 {due}（剩余 {left}）",
        "en": "⏰ Next: {name}, due {due} ({left} left)",
    },
    "board.em.late": {"zh": "🔴 迟报：{name}已超时 {span}", "en": "🔴 Late: {name} overdue by {span}"},
    "board.em.recent": {
        "zh": "过去 24 小时新发事件 {count} 起，其中已关闭 {closed} 起。",
        "en": "Incidents declared in the last 24 hours: {count}, closed since: {closed}.",
    },
    "board.em.orders": {"zh": "待确认的指令", "en": "Orders awaiting receipt"},
    "board.em.unacked": {"zh": "未确认（{count} 人）：{people}", "en": "Not acknowledged ({count}): {people}"},
    "board.em.act_ack": {"zh": "收到", "en": "Acknowledge"},
    "board.duty.title": {"zh": "值班", "en": "Duty"},
    "board.duty.empty": {"zh": "当前时段未排班。", "en": "Nobody is rostered for now."},
    "board.duty.span": {"zh": "班次：{start} 至 {end}", "en": "Shift: {start} to {end}"},
    "board.duty.leader": {"zh": "带班领导：{user}", "en": "Duty leader: {user}"},
    "board.duty.officers": {"zh": "值班员：{people}", "en": "Officers: {people}"},
    "board.duty.nobody": {"zh": "未排", "en": "not rostered"},
    "board.duty.handover_none": {"zh": "交接班：尚未交接。", "en": "Hand-over: not done yet."},
    "board.duty.handover_open": {
        "zh": "交接班：{user} 已交班，待接班确认。",
        "en": "Hand-over: written by {user}, not yet acknowledged.",
    },
    "board.duty.handover_done": {
        "zh": "交接班：已完成（{user} 交，{by} 接）。",
        "en": "Hand-over: done ({user} to {by}).",
    },
}


#: One text in `lang` (zh when it is missing), for services, timers and workers, which have no
#: chat translator at hand: the framework's own lookup (bot.i18n), over this catalog alone.
tr = Catalog(TEXTS).t
