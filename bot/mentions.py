"""Reading who a message names: pills, full Matrix IDs and short @names."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

_PILL_LINK = re.compile(r'<a\s+href="https://matrix\.to/#/(@[^"?]+)[^"]*"\s*>.*?</a>', re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_MXID = re.compile(r"@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?")
_SHORT = re.compile(r"(?<![\w@])@([A-Za-z0-9._=\-/+]+)(?![A-Za-z0-9._=\-/+:])")


def text_with_ids(body: str, html: str | None, default_server: str) -> str:
    """The message text with every mention written as a full Matrix ID.

    Clients put the display name in the body and the ID only in the HTML pill, so the
    pills are read first; `@chu` typed by hand becomes `@chu:<default_server>`.
    """
    if html:
        # A reply quotes the original inside <mx-reply>; only what follows it was written now.
        html = html.split("</mx-reply>", 1)[-1]
        text = _PILL_LINK.sub(lambda m: m.group(1).replace("%40", "@").replace("%3A", ":"), html)
        text = re.sub(r"<br\s*/?>", "\n", text, flags=re.I)
        text = htmllib.unescape(_TAG.sub("", text))
    else:
        text = body
    return _SHORT.sub(lambda m: f"@{m.group(1)}:{default_server}", text)


def user_ids_in(text: str) -> list[str]:
    """Matrix IDs in order of appearance, without repeats."""
    return list(dict.fromkeys(_MXID.findall(text)))


class RoomMembers:
    """Who is in a room and who has an account, as the bot client knows them.

    This is the room-member lookup that the office's resolution of people
    (`records.directory.PeopleDirectory`) is given. It reads the client's synced room state
    (joined and invited members with their display names) and asks the homeserver for a
    profile when an ID is not in the room. A test double may answer `members` and `registered`
    itself; with no client at all nothing is known and nothing can be asked.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        # Display names that `registered` read from profiles: someone reached only by a profile
        # look-up (in no room the bot shares) is then shown by name, not by localpart.
        self._profile_names: dict[str, str] = {}

    def members(self, room_id: str) -> dict[str, str | None]:
        nio_client = getattr(self.client, "nio", None)
        if nio_client is None:
            own = getattr(self.client, "members", None)
            return dict(own(room_id)) if callable(own) else {}
        room = nio_client.rooms.get(room_id)
        if room is None:
            return {}
        found: dict[str, str | None] = {}
        for people in (room.invited_users, room.users):  # joined last: their names win
            for user_id, user in people.items():
                found[user_id] = getattr(user, "display_name", None) or None
        return found

    async def registered(self, user_id: str) -> bool | None:
        nio_client = getattr(self.client, "nio", None)
        if nio_client is None:
            own = getattr(self.client, "registered", None)
            return await own(user_id) if callable(own) else None
        from aiohttp import ClientError
        from nio import ProfileGetError

        try:
            response = await nio_client.get_profile(user_id)
        except (OSError, TimeoutError, ClientError):
            return None  # the homeserver cannot be asked now

        if isinstance(response, ProfileGetError):
            return False
        if response.displayname:
            self._profile_names[user_id] = str(response.displayname)
        return True

    def profile_name(self, user_id: str) -> str | None:
        """The display name a `registered` look-up found for this person, if any."""
        own = getattr(self.client, "profile_name", None)
        if getattr(self.client, "nio", None) is None and callable(own):
            found = own(user_id)
            return str(found) if found else None
        return self._profile_names.get(user_id)
