"""The web board's source (server.board.BoardSource), made of the features.

- snapshot: commands.board.service.board_for over every feature's board sections, as the
  person may see them (each section applies its feature's need-to-know rule);
- act: the same service calls as chat (so the same rules, audit entries and card edits through
  the outbox), each run once per idempotency key (records.board_actions); the record is first
  checked to be visible to the person, so a stranger learns nothing, as in chat; approving a
  binding step (签发 …) opens a step-up request instead and sends the page on to /confirm;
- watch: the wake-ups over Redis (zhiban.wakeup) that follow commits: the bot's turns and
  other server copies' actions name what they changed (zhiban.board_change), so only the
  boards concerned re-read only those sections; a worker's job wakes every board.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Catalog
from commands.approvals import access as approval_access
from commands.approvals import render as approval_render
from commands.approvals import service as approvals
from commands.approvals.handlers import confirm as approval_confirm
from commands.board.service import Board, board_for, people_in, splice, with_names
from commands.board_section import BoardSection, Json, ManyAtOnce, Section, Viewer
from commands.meetings import access as meeting_access
from commands.meetings import notices as meeting_notices
from commands.meetings import service as meetings
from commands.meetings.models import ATTEND, LEAVE
from commands.tasks import access as task_access
from commands.tasks import refs as task_refs
from commands.tasks import service as tasks
from emergency import access as emergency_access
from emergency import orders
from notifications.names import names_for
from records import board_actions, outbox, stepup
from records.board_actions import Outcome
from records.clock import Clock, SystemClock
from records.config import Settings
from records.db import Database
from records.errors import DomainError, NotFound
from records.models import Person
from records.people import RoleBook
from server.board import EVERYTHING, ActionOutcome, BoardAction, BoardChange, JsonObject
from zhiban import board_change, board_texts
from zhiban.app import build_catalog
from zhiban.features import FEATURES
from zhiban.redis_conn import resolve_url
from zhiban.wakeup import BOARD, OUTBOX, WakeBus

Perform = Callable[[AsyncSession, "Actor", BoardAction], Awaitable[Outcome]]


@dataclass
class WiredBoard:
    settings: Settings
    db: Database
    clock: Clock
    wake: WakeBus | None = None
    sections: Sequence[BoardSection] = ()
    catalog: Catalog = field(init=False)
    roles: RoleBook = field(init=False)
    _token_key: bytes = field(init=False, repr=False)
    _keys: dict[BoardSection, str] = field(init=False, default_factory=dict)
    _learning: list[tuple[BoardSection, BoardSection]] = field(init=False, default_factory=list)
    _viewers: dict[tuple[str, str], Viewer] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._learning = [(source, self._learn(source)) for source in self.sections]
        self.catalog = build_catalog(self.settings)
        self.catalog.add(board_texts.TEXTS)
        self.roles = RoleBook(self.settings.roles)
        # Without a configured secret an empty key would make confirmation tokens computable by
        # anyone who knows the person and the action's key: take a random one for this process
        # (as the session signer does); a repeat after a restart then opens a fresh request.
        self._token_key = self.settings.server.secret_key.encode() or secrets.token_bytes(32)

    @classmethod
    def from_settings(cls, settings: Settings, db: Database, clock: Clock, redis_url: str | None) -> WiredBoard:
        wake = WakeBus(redis_url, settings.redis.queue) if redis_url else None
        sections = [source for feature in FEATURES for source in feature.board_sections]
        return cls(settings, db, clock, wake, sections)

    # -- what the person sees ----------------------------------------------------------------
    async def snapshot(
        self, user_id: str, lang: str, *, only: frozenset[str] | None = None, previous: JsonObject | None = None
    ) -> JsonObject:
        """The person's board; with `only` and `previous`, only those sections are read again
        (a source whose section is not known yet is always read)."""
        partial = only is not None and previous is not None
        sources = [
            learned
            for source, learned in self._learning
            if not partial or only is None or source not in self._keys or self._keys[source] in only
        ]
        async with self.db.reading() as session:
            viewer = self._viewers.get((user_id, lang)) if partial else None
            if viewer is None:
                viewer = await self._viewer(session, user_id, lang)
            board = (await board_for(session, viewer, self.clock.now(), sources)).as_json()
            board = with_names(board, await names_for(session, users=people_in(board)))
        if partial and previous is not None:
            # `previous` is a board this method answered before (the hub keeps it as it came).
            board = splice(cast(Json, previous), board)
        return dict(board)

    async def read_many(
        self, only: frozenset[str], boards: Mapping[tuple[str, str], JsonObject]
    ) -> dict[tuple[str, str], JsonObject]:
        """Many boards' sections `only` read again at once, each as its person; a source that can
        (commands.board_section.ManyAtOnce) reads all their sections in a few statements."""
        if any(source not in self._keys for source in self.sections):
            return {}  # which source makes which section is learned on a whole read first
        chosen = [source for source in self.sections if self._keys[source] in only]
        now = self.clock.now()
        answers: dict[tuple[str, str], JsonObject] = {}
        async with self.db.reading() as session:
            by_lang: dict[str, list[Viewer]] = {}
            for user_id, lang in boards:
                viewer = self._viewers.get((user_id, lang)) or await self._viewer(session, user_id, lang)
                by_lang.setdefault(lang, []).append(viewer)
            for lang, viewers in by_lang.items():
                made: dict[str, list[Section]] = {viewer.user_id: [] for viewer in viewers}
                for source in chosen:
                    if isinstance(source, ManyAtOnce):
                        sections = await source.many(session, viewers, now)
                    else:
                        sections = {viewer.user_id: await source(session, viewer, now) for viewer in viewers}
                    for user_id, section in sections.items():
                        made[user_id].append(section)
                fresh = {v.user_id: Board(viewer=v, at=now, sections=tuple(made[v.user_id])).as_json() for v in viewers}
                # People by name, as on the chat cards: one look-up for every board read here.
                names = await names_for(session, users=[user for board in fresh.values() for user in people_in(board)])
                for user_id, board in fresh.items():
                    previous = cast(Json, boards[(user_id, lang)])  # a board `snapshot` answered
                    answers[(user_id, lang)] = dict(splice(previous, with_names(board, names)))
        return answers

    async def _viewer(self, session: AsyncSession, user_id: str, lang: str) -> Viewer:
        """Who looks, with their roles and zone now. Kept for reading their board's sections again:
        a change of a person or their roles names no section (zhiban.board_change), so every
        board is then read whole, and this read again."""
        person = await session.get(Person, user_id)
        viewer = Viewer(
            user_id=user_id,
            roles=frozenset(await self.roles.roles_of(session, user_id)),
            lang=lang,
            tz=(person.tz if person and person.tz else None) or self.settings.default_tz,
        )
        self._viewers[(user_id, lang)] = viewer
        return viewer

    def _learn(self, source: BoardSection) -> BoardSection:
        """`source`, noting which section it makes (always the same one), so that a change of
        one section reads that source alone."""

        async def read(session: AsyncSession, viewer: Viewer, now: datetime) -> Section:
            section = await source(session, viewer, now)
            self._keys[source] = section.key
            return section

        return read

    # -- what the person does ----------------------------------------------------------------
    async def act(self, user_id: str, action: BoardAction) -> ActionOutcome:
        perform = _PERFORMERS[action.kind]
        token = self._confirm_token(user_id, action.key)
        actor = Actor(user_id, self.roles, self.clock, self.settings.stepup.minutes, token)

        ran: list[bool] = []

        async def run(session: AsyncSession) -> Outcome:
            done = await perform(session, actor, action)
            ran.append(True)
            return done

        # Named after the commit, as a turn's wake-up is (zhiban.middlewares): the chat notices
        # the action queued are written only as it commits (records.deferred).
        with board_change.collecting() as committed:
            outcome, replayed = await board_actions.once(
                self.db, user_id, action.key, action.kind, action.ref, run, self.clock
            )
        payload = committed.named() if ran and not replayed else ""
        if not replayed and outcome.status < 400:  # a refusal changed nothing: no board reads again
            outbox.wake_relay()
            # The action is committed: a wake-up that cannot be sent (WakeBus.publish logs it)
            # delays the other copies' boards until their next refresh, it fails nothing.
            if self.wake is not None:  # the bot relays the edited cards; other servers refresh
                await self.wake.publish(OUTBOX, NAMED_APART)
                if payload is not None:
                    await self.wake.publish(BOARD, payload)
        message = self.catalog.t(outcome.key, action.lang, **outcome.params)
        # The confirmation page's link is never stored: a repeat of the key derives it again.
        ahead = stepup.CONFIRM_PATH + token if outcome.key == CONFIRM_ON_PHONE else None
        change = BoardChange(sections=frozenset()) if payload is None else as_change(payload)
        return ActionOutcome(outcome.status, outcome.key, message, replayed, next=ahead, change=change)

    def _confirm_token(self, user_id: str, key: str) -> str:
        """The token of the confirmation a board action may open, the same for every repeat of
        its idempotency key (only its hash is stored, in records.stepup)."""
        mac = hmac.new(self._token_key, f"board-confirm\0{user_id}\0{key}".encode(), "sha256")
        return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")

    async def watch(self, on_change: Callable[[BoardChange], None]) -> None:
        if self.wake is None:
            return

        def outbox_written(payload: str) -> None:
            # A worker's job wrote messages after changing who knows what: every board looks
            # again. A board action says what it changed in its own board wake-up.
            if payload != NAMED_APART:
                on_change(EVERYTHING)

        def board_changed(payload: str) -> None:
            on_change(as_change(payload))

        await self.wake.listen_with_payload({OUTBOX: outbox_written, BOARD: board_changed})

    async def close(self) -> None:
        if self.wake is not None:
            await self.wake.close()


#: An OUTBOX wake-up's payload when a BOARD wake-up names what the same commit changed.
NAMED_APART = board_change.NAMED_APART


def as_change(payload: str) -> BoardChange:
    """A board wake-up's payload (zhiban.board_change.named) as the hub takes it; a payload
    that names nothing readable is a change of everything."""
    sections, people = board_change.parse(payload)
    return BoardChange(sections=sections, people=people)


# -- one function per kind of action: find the record as the person may see it, then the service --
@dataclass(frozen=True)
class Actor:
    """Who acts from the board, with what the rules need to know of them."""

    user: str
    roles: RoleBook
    clock: Clock
    confirm_minutes: int = 10
    confirm_token: str = ""

    async def office_roles(self, session: AsyncSession) -> set[str]:
        return await self.roles.roles_of(session, self.user)


def _ok(key: str, **params: object) -> Outcome:
    return Outcome(200, key, {name: str(value) for name, value in params.items()})


async def _decide(session: AsyncSession, actor: Actor, action: BoardAction, approve: bool) -> Outcome:
    approval = await approvals.get_approval(session, approvals.parse_code(action.ref))
    await approval_access.require_visible(session, approval, actor.user, await actor.office_roles(session))
    try:
        outcome = await approvals.decide(session, approval.id, actor.user, approve, action.opinion, actor.clock)
    except approvals.ConfirmationNeeded as needed:
        return await _ask_confirmation(session, actor, action, needed)
    code = outcome.approval.code
    if outcome.event == "approved":
        return _ok("approval.approved_reply", code=code)
    if outcome.event == "rejected":
        return _ok("approval.rejected_reply", code=code, reason=action.opinion)
    if outcome.event == "step_done":
        step = approval_render.label_in(outcome.step_name)(action.lang)
        return _ok("approval.step_done_reply", code=code, step=step, people=", ".join(outcome.notified))
    return _ok("approval.recorded", code=code, user=actor.user)


async def _approve(session: AsyncSession, actor: Actor, action: BoardAction) -> Outcome:
    return await _decide(session, actor, action, True)


CONFIRM_ON_PHONE = "board.confirm_on_phone"


async def _ask_confirmation(
    session: AsyncSession, actor: Actor, action: BoardAction, needed: approvals.ConfirmationNeeded
) -> Outcome:
    """A binding step approved from the board: a step-up request, as chat's ✅ opens, whose
    page the board goes to at once (zhiban.stepup_wiring decides it there)."""
    approval, step = needed.approval, needed.step
    await approval_confirm.open_request(
        session,
        needed,
        actor.user,
        action.opinion,
        lang=action.lang,
        minutes=actor.confirm_minutes,
        clock=actor.clock,
        token=actor.confirm_token,
        asked_from="board",
    )
    return _ok(CONFIRM_ON_PHONE, code=approval.code, step=step.label, minutes=actor.confirm_minutes)


async def _reject(session: AsyncSession, actor: Actor, action: BoardAction) -> Outcome:
    return await _decide(session, actor, action, False)


async def _order(session: AsyncSession, actor: Actor, action: BoardAction) -> orders.Order:
    order_id = orders.parse_code(action.ref)
    if order_id is None:
        raise NotFound("board.unknown_ref", ref=action.ref)
    viewer = await emergency_access.viewer_of(session, actor.roles, actor.user, room_id=None, clock=actor.clock)
    return await emergency_access.visible_order(session, order_id, viewer)


async def _ack(session: AsyncSession, actor: Actor, action: BoardAction) -> Outcome:
    order = await _order(session, actor, action)
    changed = await orders.acknowledge(session, order, user=actor.user, clock=actor.clock)
    return _ok("em.order.acked" if changed else "em.order.already_acked", id=order.code)


async def _task(session: AsyncSession, actor: Actor, action: BoardAction) -> int:
    task = await tasks.get_task(session, task_refs.parse_code(action.ref))
    await task_access.require_visible(session, task, actor.user, await actor.office_roles(session))
    return task.id


async def _progress(session: AsyncSession, actor: Actor, action: BoardAction) -> Outcome:
    if action.percent is None:
        raise DomainError("board.need_percent")
    task_id = await _task(session, actor, action)
    task = await tasks.report_progress(session, task_id, actor.user, action.percent, action.opinion, actor.clock)
    return _ok("task.progress_set", code=task.code, percent=action.percent, note=action.opinion or "—")


async def _done(session: AsyncSession, actor: Actor, action: BoardAction) -> Outcome:
    if action.ref.startswith("O"):  # an order is done by its recipient, as `!done O9` is
        order = await _order(session, actor, action)
        await orders.complete(session, order, user=actor.user, note=action.opinion, clock=actor.clock)
        return _ok("em.order.done", id=order.code)
    task_id = await _task(session, actor, action)
    task = await tasks.submit_done(session, task_id, actor.user, action.opinion, actor.clock)
    return _ok("board.task_done", code=task.code, assigner=task.assigner)


async def _meeting(session: AsyncSession, actor: Actor, action: BoardAction) -> int:
    meeting = await meetings.get_meeting(session, meetings.parse_code(action.ref))
    await meeting_access.require_visible(session, meeting, actor.user, await actor.office_roles(session))
    return meeting.id


async def _rsvp_yes(session: AsyncSession, actor: Actor, action: BoardAction) -> Outcome:
    meeting_id = await _meeting(session, actor, action)
    meeting, _ = await meetings.respond(session, meeting_id, actor.user, ATTEND, actor.clock)
    return _ok("meeting.answered_attend", user=actor.user, code=meeting.code)


async def _rsvp_no(session: AsyncSession, actor: Actor, action: BoardAction) -> Outcome:
    meeting_id = await _meeting(session, actor, action)
    reason = action.opinion
    meeting, _ = await meetings.respond(session, meeting_id, actor.user, LEAVE, actor.clock, reason=reason)
    if reason and meeting.organizer != actor.user:  # as `!请假 M3 <reason>` tells the organizer in chat
        await meeting_notices.tell(
            session, meeting, meeting.organizer, "meeting.leave_dm", actor.clock, user=actor.user, reason=reason
        )
    return _ok("meeting.answered_leave", user=actor.user, code=meeting.code)


_PERFORMERS: dict[str, Perform] = {
    "approve": _approve,
    "reject": _reject,
    "ack": _ack,
    "progress": _progress,
    "done": _done,
    "rsvp_yes": _rsvp_yes,
    "rsvp_no": _rsvp_no,
}


def board_extra(settings: Settings) -> dict[str, object]:
    """What `zhiban server` hands create_app so that /board works: the wired source."""
    redis_url = resolve_url(settings.redis.url)
    return {
        "board_source": WiredBoard.from_settings(
            settings, Database(settings.database_url, pool=settings.database), SystemClock(), redis_url
        )
    }
