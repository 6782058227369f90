"""How the general commands show things."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.i18n import Translator
from commands.general.texts import TEXTS
from timeparse.formatting import format_when

# The most telling role first: "领导、工作人员", not alphabetical.
_ROLE_ORDER = ("leader", "duty_leader", "duty_officer", "admin", "room_admin", "staff")


def now_in(tz: str, lang: str) -> str:
    """The current time in a zone, as every time is shown (docs/messages.md): 今天 12月3日（周四）14:30."""
    return format_when(datetime.now(UTC), tz=tz, lang=lang, hints=True)


def role_names(roles: set[str], t: Translator) -> str:
    """Roles as people say them (领导、值班员), not their ids; an office's own role as written."""
    ordered = sorted(roles, key=lambda r: (_ROLE_ORDER.index(r) if r in _ROLE_ORDER else len(_ROLE_ORDER), r))
    names = [t(f"whoami.role.{r}") if f"whoami.role.{r}" in TEXTS else r for r in ordered]
    return t("whoami.roles.sep").join(names)


def lang_name(lang: str, t: Translator) -> str:
    key = f"whoami.lang.{lang}"
    return t(key) if key in TEXTS else lang
