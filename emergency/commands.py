"""The emergency commands, as users type them (the handlers are in emergency.handlers)."""

from __future__ import annotations

from bot import Command
from bot.grammar import Sub, SubTable

DUTY = Command(
    "duty",
    aliases=("值班",),
    usage={
        "zh": "!值班 —— 现在和下一班的值班人员\n"
        "!值班 设置 <日期或时段> 带班 @领导 [电话] 值班员 @甲 [电话] @乙\n"
        "  日期：明天 / 11月26日 / 2026-11-26（从交班时间起 24 小时）\n"
        "  时段：明天 8:30 至 17:30 / 今天18:00 - 次日8:00",
        "en": "!duty — who is on duty now and next\n"
        "!duty set <date or span> leader @lead [phone] officers @a [phone] @b\n"
        "  date: tomorrow / 2026-11-26 (24 hours from the shift start)\n"
        "  span: tomorrow 8:30 to 17:30",
    },
    summary={"zh": "值班表：查看、排班（也可上传 CSV）", "en": "Duty roster: show, set (or upload a CSV)"},
    example="!值班 设置 明天 带班 @zhang 值班员 @li @wang",
    group="emergency",
    # `!值班` alone shows who is on duty; any other first word is refused, not ignored.
    subcommands=SubTable((Sub("set", ("设置", "排班")),), ids=False),
)

HANDOVER = Command(
    "handover",
    aliases=("交接班", "交班"),
    usage={"zh": "!交接班 <交接事项>", "en": "!handover <notes>"},
    summary={"zh": "交接班：记录并通知下一班（下一班用 ✅ 确认）", "en": "Hand over to the next shift (they ✅ it)"},
    example="!交接班 城东积水点仍在抽排，已通知水务",
    group="emergency",
)

LOG = Command(
    "log",
    aliases=("值班记录",),
    usage={
        "zh": "!值班记录 [来源:单位] [报告人:姓名] [电话:号码] [已告知:@甲 @乙] <内容>\n!值班记录 —— 查看今天的记录",
        "en": "!log [source:unit] [reporter:name] [contact:phone] [told:@a @b] <content>\n!log — today's entries",
    },
    summary={"zh": "值班记录：登记来电来报", "en": "Duty log: record an incoming report"},
    example="!值班记录 来源:城东街道 报告人:王五 电话:13800000000 已告知:@zhang 和平路积水30厘米",
    group="emergency",
)

SHOW_WORDS = ("show", "查看", "详情", "概况", "status", "状态")

CLASS_WORDS = ("class", "category", "类别", "分类")

INCIDENT_SUBS = SubTable(
    (
        Sub("declare", ("start", "启动", "宣布")),
        Sub("close", ("关闭", "结束")),
        Sub("escalate", ("grade", "调级", "升级", "降级")),
        Sub(CLASS_WORDS[0], CLASS_WORDS[1:]),
        Sub("list", ("列表",)),
        Sub(SHOW_WORDS[0], SHOW_WORDS[1:]),
    ),
)

INCIDENT = Command(
    "incident",
    aliases=("应急", "事件"),
    usage={
        "zh": "!应急 启动 <等级 Ⅰ–Ⅳ 或 1–4> [类别] <标题>\n"
        "  类别：自然灾害 / 事故灾难 / 公共卫生 / 社会安全\n"
        "!应急 类别 E5 <类别> —— 补充或更改类别，并邀请该类别的处置人员\n"
        "!应急 调级 E5 <等级>\n!应急 关闭 E5\n!应急 —— 进行中的事件\n!应急 查看 E5 —— 事件概况",
        "en": "!incident declare <grade I–IV or 1–4> [class] <title>\n"
        "  classes: 自然灾害 natural / 事故灾难 accident / 公共卫生 health / 社会安全 security\n"
        "!incident class E5 <class> — give or change the class, and invite its responders\n"
        "!incident escalate E5 <grade>\n!incident close E5\n!incident — open incidents\n"
        "!incident show E5 — the incident's summary",
    },
    summary={"zh": "应急事件：启动、调级、关闭", "en": "Incidents: declare, change grade, close"},
    example="!应急 启动 2 自然灾害 城东区内涝",
    group="emergency",
    subcommands=INCIDENT_SUBS,
)

ROLE = Command(
    "role",
    aliases=("角色",),
    usage={
        "zh": "!角色 [E5] <指挥长|副指挥长|联络员|记录员|发言人> @某人…",
        "en": "!role [E5] <commander|deputy|liaison|recorder|spokesperson> @someone…",
    },
    summary={"zh": "指定事件角色", "en": "Give an incident role"},
    example="!角色 E5 指挥长 @zhang",
    group="emergency",
)

TIMELINE = Command(
    "timeline",
    aliases=("时间线",),
    usage={"zh": "!时间线 [E5]", "en": "!timeline [E5]"},
    summary={"zh": "事件时间线（📌 可把任意消息加入）", "en": "The incident timeline (📌 adds any message)"},
    group="emergency",
)

ORDER = Command(
    "order",
    aliases=("指令",),
    usage={
        "zh": "!指令 @甲 @乙 <指令内容>（在事件群内）\n!指令 确认 O9 / !指令 完成 O9 <说明>",
        "en": "!order @a @b <instruction> (in the incident room)\n!order ack O9 / !order done O9 <note>",
    },
    summary={"zh": "下达指令，逐人确认回执", "en": "Issue an order; every recipient acknowledges"},
    example="!指令 @li @wang 30分钟内到城东泵站集合",
    group="emergency",
)

ACK = Command(
    "ack",
    aliases=("收到",),
    usage={"zh": "!收到 O9（或在指令上点 ✅）", "en": "!ack O9 (or ✅ on the order)"},
    summary={"zh": "确认收到指令或警报", "en": "Acknowledge an order or alert"},
    group="emergency",
)

DONE = Command(
    "done",
    aliases=("已完成",),
    usage={"zh": "!已完成 O9 <说明>", "en": "!done O9 <note>"},
    summary={"zh": "报告指令已完成", "en": "Report an order done"},
    example="!已完成 O9 泵站已到岗",
    group="emergency",
)

ORDERS = Command(
    "orders",
    aliases=("指令列表",),
    usage={"zh": "!指令列表 [E5]", "en": "!orders [E5]"},
    summary={"zh": "指令回执：送达 / 已读 / 确认 / 完成", "en": "Order receipts: delivered / read / acked / done"},
    group="emergency",
)

ALERT = Command(
    "alert",
    aliases=("警报", "紧急通知"),
    usage={
        "zh": "!警报 <内容> —— 发给全体人员，需逐人确认",
        "en": "!alert <text> — to all staff, each must acknowledge",
    },
    summary={
        "zh": "全员警报（高优先级推送，确认跟踪）",
        "en": "Broadcast an alert to all staff, with acknowledgements",
    },
    group="emergency",
)

REPORT = Command(
    "report",
    aliases=("报告", "报送"),
    usage={
        "zh": "!报告 首报|续报|终报 [地点: … 影响: … 伤亡: … 措施: … 需求: … 报告人: …]\n"
        "缺少的内容会逐项询问，可以打字或发语音（转写后点 ✅ 或回复“采用”）；回复“跳过”跳过一项，“取消”放弃。",
        "en": "!report first|update|final [place: … impact: … casualties: … measures: … needs: … reporter: …]\n"
        "Missing fields are asked one by one: type or speak (then react ✅ or answer 'use' once transcribed); "
        "'skip' skips one, 'cancel' gives up.",
    },
    summary={"zh": "首报 / 续报 / 终报（在事件群内）", "en": "First / update / final report (in the incident room)"},
    example="!报告 首报 地点: 城东区和平路 影响: 道路中断",
    group="emergency",
)
