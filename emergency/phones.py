"""Phone numbers from the duty roster, written after a person where someone must reach them.

The numbers are kept on the person (`records.people.phones`); a text names the person by
Matrix ID (shown as their name by `notifications.names`) followed by the number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from emergency.texts import tr

_MAINLAND_MOBILE = re.compile(r"1\d{10}")


def shown(number: str) -> str:
    """A number as people read it: a mainland mobile in groups (138 0000 0000), others as kept."""
    if _MAINLAND_MOBILE.fullmatch(number):
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    return number


def noted(user: str, phones: Mapping[str, str], lang: str) -> str:
    """`user` followed by their number when the roster has one: `@zhao:office（138 0000 0000）`."""
    number = phones.get(user)
    return f"{user}{tr('em.phone', lang, phone=shown(number))}" if number else user
