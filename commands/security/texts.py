"""Texts of the security command."""

TEXTS: dict[str, dict[str, str]] = {
    "group.security": {"zh": "安全", "en": "Security"},
    "security.show": {
        "zh": "🔐 您用于确认签发等重要决定的验证方式：通行密钥 {passkeys} 个；动态验证码：{totp}。\n"
        "在手机上管理（添加或移除）：{url}",
        "en": "🔐 How you confirm binding decisions such as 签发: passkeys: {passkeys}; one-time codes: {totp}.\n"
        "Manage them on your phone: {url}",
    },
    "security.show.none": {
        "zh": "🔐 您还没有验证方式：签发等重要决定暂时无法确认。请在手机上添加通行密钥或动态验证码：{url}",
        "en": "🔐 You have no way to confirm binding decisions such as 签发 yet. "
        "Add a passkey or one-time codes on your phone: {url}",
    },
    "security.totp.on": {"zh": "已开启", "en": "on"},
    "security.totp.off": {"zh": "未开启", "en": "off"},
    "security.usage.sub": {
        "zh": "未知的子命令“{value}”。用法：!安全、!安全 重置 @某人（管理员）",
        "en": "Unknown subcommand '{value}'. Usage: !security, !security reset @someone (admins)",
    },
    "security.reset.not_admin": {
        "zh": "只有管理员可以重置他人的验证方式。",
        "en": "Only an admin can reset someone's authenticators.",
    },
    "security.reset.self": {
        "zh": "不能重置自己的验证方式：请在手机上的安全设置页管理，或请另一位管理员重置。",
        "en": "You cannot reset your own authenticators: manage them on the security page, "
        "or ask another admin to reset them.",
    },
    "security.reset.who": {
        "zh": "请指明一个人，例如：!安全 重置 @zhang:example.org",
        "en": "Name one person, e.g. !security reset @zhang:example.org",
    },
    "security.reset.nothing": {
        "zh": "{user} 没有任何验证方式，无需重置。",
        "en": "{user} has no authenticator: nothing to reset.",
    },
    "security.reset.done": {
        "zh": "已重置 {user} 的验证方式（移除通行密钥 {passkeys} 个；动态验证码原为：{totp}），"
        "并退出其 {sessions} 个看板登录。已私信通知本人重新添加。",
        "en": "Reset the authenticators of {user} (passkeys removed: {passkeys}; one-time codes were: {totp}) "
        "and ended their board sign-ins ({sessions}). They were told by direct message to add new ones.",
    },
    "security.reset.waiting": {
        "zh": "待其确认的事项仍然保留、未作决定：{items}。本人重新添加验证方式后即可确认"
        "（确认链接过期时，在聊天中再次同意即可获得新链接）。",
        "en": "What waits for their confirmation stays pending, undecided: {items}. They confirm it once "
        "they have added a new authenticator (if the link has expired, approving again in chat sends a new one).",
    },
    "security.reset.dm": {
        "zh": "🔐 管理员 {admin} 已重置您用于确认签发的验证方式（通行密钥和动态验证码均已移除），"
        "并退出了您在看板上的登录。请在聊天中发送 !推送 获取登录链接，用手机打开后，"
        "再打开安全设置页重新添加：{url}\n添加前需输入登记码：请通过电话或当面向管理员 {admin} 索取，"
        "登记码不会在聊天中发送。\n如非您本人请求，请立即联系管理员。",
        "en": "🔐 Admin {admin} reset the authenticators you confirm binding decisions with (your passkeys and "
        "one-time codes were removed) and signed you out of the board. Send !push in chat for a sign-in "
        "link, open it on your phone, then add a new one on the security page: {url}\n"
        "Adding one first asks for an enrolment code: get it from {admin} by phone or in person; "
        "it is never sent in chat.\nIf you did not ask for this, contact an admin at once.",
    },
    "security.reset.code": {
        "zh": "🔐 {user} 的登记码：{code}\n请通过电话或当面交给本人（核实身份后），不要在聊天中转发："
        "捡到手机的人可能仍登录着其聊天账号。本人在安全设置页输入后即可添加新的验证方式；"
        "{days} 天内有效，输错多次即失效，届时再次重置可获得新码。",
        "en": "🔐 Enrolment code for {user}: {code}\nHand it to them by phone or in person (once you know it is "
        "them), never in chat: whoever found the phone may still be signed in to their chat account. They "
        "enter it on the security page to add a new authenticator; it is valid for {days} days and void after "
        "a few wrong tries (reset again for a new one).",
    },
    "security.reset.code_sent": {
        "zh": "登记码已私信发给您：请通过电话或当面交给本人，本人凭此码才能添加新的验证方式。",
        "en": "The enrolment code was sent to you by direct message: hand it over by phone or in person; "
        "they need it to add a new authenticator.",
    },
    "security.reset.dm_waiting": {
        "zh": "待您确认的事项仍在等待：{items}。添加后打开原确认链接即可确认；链接已过期时，在聊天中再次同意即可。",
        "en": "Still waiting for your confirmation: {items}. Once you have added one, open the confirmation "
        "link again; if it has expired, approve again in chat for a new one.",
    },
}
