"""Who a message names: one resolution of people for every feature.

A person may be written as a pill (the client puts their Matrix ID in the HTML), a full Matrix
ID (`@chu:example.org`), a localpart (`@chu`), or a display name (`@王伟`). Each is resolved
against the people the office knows: the members of the room (joined or invited), the people
on record (`records.models.Person`), and those the config gives roles. A full ID nobody here
knows is asked of the homeserver. Whoever cannot be found, or could be more than one person,
is refused with their name (and the close names we do know) before anything is created: a
task led by `@nobody` would never be done, a meeting notice to nobody never read.

The room-member lookup is the bot client's (see `bot.mentions.RoomMembers`); it is injected,
so that this module stays free of Matrix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from records import people
from records.errors import DomainError
from records.models import Person

_MXID = re.compile(r"@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?")
# A mention starts at an @ (or the full-width ＠ of Chinese keyboards) that is not inside a word
# or an e-mail address.
_AT = re.compile(r"(?<![\w@.])[@＠]")
# What a typed name runs to when nobody known matches it: up to a space or a separator.
_TOKEN = re.compile(r"[^\s@＠>&|,，、;；:：()（）\[\]【】<]+")
_LOCALPART = re.compile(r"[A-Za-z0-9._=\-/+]+")
_ASCII_NAME_CHAR = re.compile(r"[A-Za-z0-9._=\-/+]")


class MemberLookup(Protocol):
    """What the bot client tells about people (see bot.mentions.RoomMembers)."""

    def members(self, room_id: str) -> Mapping[str, str | None]:
        """The room's joined and invited members: user id → display name (None if unset)."""
        ...

    async def registered(self, user_id: str) -> bool | None:
        """Whether the homeserver has this account; None when it cannot be asked."""
        ...

    def profile_name(self, user_id: str) -> str | None:
        """The display name the homeserver gave when `registered` asked about this person."""
        ...


class NoMembers:
    """No client at hand (a worker, a test without one): only the office's records are known."""

    def members(self, room_id: str) -> Mapping[str, str | None]:
        return {}

    async def registered(self, user_id: str) -> bool | None:
        return None

    def profile_name(self, user_id: str) -> str | None:
        return None


def unknown_person(token: str, suggestions: Iterable[str] = ()) -> DomainError:
    """The refusal for someone nobody knows, with the close names if there are any."""
    close = list(suggestions)
    who = token if token.startswith("@") else "@" + token
    if close:
        return DomainError("people.unknown_suggest", who=who, suggest="、".join(close))
    return DomainError("people.unknown", who=who)


def _one_answer(problems: list[DomainError]) -> DomainError:
    """Several people not found make one refusal naming them all (a name two people share is
    answered on its own, with their IDs, once the unknown ones are put right)."""
    unknown = [p for p in problems if p.key != "people.ambiguous"]
    if not unknown:
        return problems[0]
    who = "、".join(dict.fromkeys(str(p.params["who"]) for p in unknown))
    close = [str(p.params["suggest"]) for p in unknown if "suggest" in p.params]
    if close:
        return DomainError("people.unknown_suggest", who=who, suggest="、".join(dict.fromkeys(close)))
    return DomainError("people.unknown", who=who)


@dataclass
class PeopleDirectory:
    """Resolves the people a message in `room_id` names. One per event: it reads the room and the
    office's people once, on first use."""

    session: AsyncSession
    room_id: str
    lookup: MemberLookup = field(default_factory=NoMembers)
    configured: Iterable[str] = ()
    server: str = ""
    _known: dict[str, str | None] | None = field(default=None, init=False, repr=False)

    async def known(self) -> dict[str, str | None]:
        """Everyone the office knows here: user id → display name (the room's name first)."""
        if self._known is None:
            found: dict[str, str | None] = {user: None for user in self.configured}
            rows = await self.session.execute(select(Person.user_id, Person.display_name))
            for user, name in rows:
                found[user] = name or found.get(user)
            for user, name in self.lookup.members(self.room_id).items():
                found[user] = name or found.get(user)
            self._known = found
        return self._known

    async def resolve_text(self, text: str) -> str:
        """`text` with every person it names written as their full Matrix ID.

        Raises DomainError ("people.unknown…" / "people.ambiguous") naming everyone who could
        not be resolved; nothing is stored before the caller gets past this.
        """
        out: list[str] = []
        problems: list[DomainError] = []
        named: list[str] = []
        pos = 0
        for at in _AT.finditer(text):
            start = at.start()
            if start < pos:
                continue  # inside a mention already read
            try:
                resolved, end = await self._mention_at(text, start)
            except DomainError as problem:
                problems.append(problem)  # the others are checked too: one answer names them all
                continue
            if resolved is None:
                continue  # a lone @ is not a mention
            out.append(text[pos:start])
            out.append(resolved)
            named.append(resolved)
            pos = end
        if problems:
            raise _one_answer(problems)
        out.append(text[pos:])
        # Their names are kept, so that cards and DMs written later (by a timer, a worker) show
        # them by name.
        known = await self.known()
        await people.learn_names(self.session, {user: known.get(user) for user in named})
        return "".join(out)

    # -- one mention -----------------------------------------------------------------------
    async def _mention_at(self, text: str, start: int) -> tuple[str | None, int]:
        if text[start] == "@":
            full = _MXID.match(text, start)
            if full is not None:
                spanning = await self._name_across(text, start, full)
                if spanning is not None:
                    return spanning
                return await self._full_id(full.group(0)), full.end()
        users, end = await self._display_name_at(text, start + 1)
        if users:
            return self._one(text[start + 1 : end], users), end
        token = _TOKEN.match(text, start + 1)
        if token is None:
            return None, start + 1
        name = token.group(0)
        if _LOCALPART.fullmatch(name):
            return await self._full_id(f"@{name}:{self.server}" if self.server else "@" + name), token.end()
        raise unknown_person(name, await self._close_to(name))

    async def _name_across(self, text: str, start: int, full: re.Match[str]) -> tuple[str, int] | None:
        """A display name with a space ("@Wang Wei") that `@short` completion cut after its first word.

        Mentions typed by hand arrive with `@Wang` already completed to `@Wang:<server>`; when a
        known display name runs on past that word, it is the person meant.
        """
        user = full.group(0)
        localpart, _, server = user[1:].partition(":")
        if server != self.server or user in await self.known():
            return None
        suffix = ":" + server
        written = text[: full.end() - len(suffix)] + text[full.end() :]
        users, end = await self._display_name_at(written, start + 1)
        if not users or end - start - 1 <= len(localpart):
            return None
        return self._one(written[start + 1 : end], users), end + len(suffix)

    async def _display_name_at(self, text: str, start: int) -> tuple[list[str], int]:
        """The people whose display name is written at `start` (the longest name that fits)."""
        best: tuple[int, list[str]] = (0, [])
        folded = text[start:].casefold()
        for name, users in self._by_name(await self.known()).items():
            if len(name) <= best[0] or not folded.startswith(name):
                continue
            after = text[start + len(name) : start + len(name) + 1]
            # "@wang" must not match inside "@wangwei"; a Chinese name runs into the next word.
            if after and _ASCII_NAME_CHAR.match(name[-1]) and _ASCII_NAME_CHAR.match(after):
                continue
            best = (len(name), users)
        return best[1], start + best[0]

    async def _full_id(self, user: str) -> str:
        known = await self.known()
        if user in known:
            return user
        localpart, _, server = user[1:].partition(":")
        same = [u for u in known if u[1:].partition(":")[0].casefold() == localpart.casefold()]
        exact_server = [u for u in same if u.partition(":")[2] == server]
        if len(exact_server) == 1:
            return exact_server[0]  # @Chu:office is @chu:office
        registered = await self.lookup.registered(user)
        if registered:
            # Someone in no room the bot shares: the profile's name is kept with the others, so
            # that resolve_text records it and later messages show them by name.
            known[user] = self.lookup.profile_name(user) or known.get(user)
            return user
        if server == self.server:
            # `@wang` typed by hand was completed to this server; it may be a display name or a
            # localpart on another server.
            by_name = self._by_name(known).get(localpart.casefold(), [])
            for users in (by_name, same):
                if users:
                    return self._one("@" + localpart, users)
        if registered is None:
            return user  # nobody can tell: the homeserver cannot be asked
        raise unknown_person(user, await self._close_to(localpart))

    def _one(self, written: str, users: list[str]) -> str:
        if len(users) == 1:
            return users[0]
        who = written if written.startswith("@") else "@" + written
        raise DomainError("people.ambiguous", who=who, choices="、".join(sorted(users)))

    @staticmethod
    def _by_name(known: Mapping[str, str | None]) -> dict[str, list[str]]:
        names: dict[str, list[str]] = {}
        for user, name in known.items():
            if name and name.strip():
                names.setdefault(name.strip().casefold(), []).append(user)
        return names

    async def _close_to(self, written: str) -> list[str]:
        """Up to three people whose display name or localpart is close to what was written."""
        known = await self.known()
        labels: dict[str, set[str]] = {}
        for user, name in known.items():
            labels.setdefault(user[1:].partition(":")[0].casefold(), set()).add(user)
            if name and name.strip():
                labels.setdefault(name.strip().casefold(), set()).add(user)
        word = written.lstrip("@＠").casefold()
        # A Chinese name typed without a space runs into the next words ("@王五截止明天"): each
        # label is also compared with as many characters as it has, and by sound, since the
        # usual slip of a pinyin keyboard is a homophone (王为 for 王伟).
        scored: list[tuple[float, str]] = []
        for label in labels:
            heads = [word] + ([word[: len(label)]] if len(word) > len(label) else [])
            ratio = max(_likeness(head, label) for head in heads)
            if ratio >= 0.5:
                scored.append((ratio, label))
        out: list[str] = []
        for _, label in sorted(scored, key=lambda item: (-item[0], item[1])):
            for user in sorted(labels[label]):
                name = known.get(user)
                shown = f"{name} ({user})" if name else user
                if shown not in out:
                    out.append(shown)
        return out[:3]


def _likeness(written: str, label: str) -> float:
    """How alike two names are, in writing or (for Chinese) in sound; 1.0 is the same."""
    ratio = difflib.SequenceMatcher(None, written, label).ratio()
    if ratio < 1.0 and not written.isascii() and not label.isascii():
        from pypinyin import lazy_pinyin  # loaded only when a Chinese name was not found

        sound = difflib.SequenceMatcher(None, "".join(lazy_pinyin(written)), "".join(lazy_pinyin(label))).ratio()
        ratio = max(ratio, sound)
    return ratio
