"""The application's middlewares: exactly-once handling, and each user's preferences."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.dispatcher import Dispatcher
from bot.errors import Refusal, UserFacingError
from bot.fsm import FSMContext
from bot.i18n import translator
from bot.mentions import RoomMembers, text_with_ids, user_ids_in
from bot.outbound import current_outbound
from bot.router import UNHANDLED, NextHandler
from bot.types import Event, Message
from commands.turn import Turn
from records import ledger, outbox, people
from records.config import Settings
from records.db import Database
from records.directory import MemberLookup, PeopleDirectory
from records.errors import DomainError, NotAllowed
from timeparse.budget import TooComplex
from zhiban import board_change, fsm_store
from zhiban.outbox_writer import OutboxWriter
from zhiban.wakeup import BOARD, TIMERS

log = logging.getLogger(__name__)


class ExactlyOnce:
    """Runs each event in one transaction that also records the event id and the replies.

    A replayed event (after a restart) finds its id in the ledger and does nothing. A handler
    that fails leaves nothing half-written: its transaction is rolled back, and the error
    reply is recorded, with the event id, in a transaction of its own.
    """

    # Preferences change rarely and only through handlers of this process; a short lifetime
    # covers changes made elsewhere (an admin editing the database).
    PREFS_TTL = 60.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self._prefs: dict[str, tuple[float, str | None, str | None]] = {}
        self._names: dict[str, str] = {}

    async def __call__(self, handler: NextHandler, event: Event, data: dict[str, Any]) -> Any:
        dispatcher: Dispatcher = data["dispatcher"]
        result: Any = UNHANDLED
        writer: OutboxWriter | None = None
        try:
            async with self.db.transaction() as session:
                # Recording the event first makes a replay stop here; a racing copy waits on
                # this row and stops once it is committed.
                if not await ledger.mark_handled(session, event.event_id, event.room_id):
                    log.info("event %s was already handled; skipping", event.event_id)
                    data["duplicate"] = True
                    return UNHANDLED
                writer = OutboxWriter(session)
                # Whoever sent the command is told if a message it caused can never be sent.
                outbox.attribute_to(session, event.sender)
                token = current_outbound.set(writer)
                try:
                    data["session"] = session
                    await self._load_preferences(session, event, data)
                    # Wizard state moves with the rest of the turn, or not at all.
                    with fsm_store.bound_to(session):
                        result = await handler(event, data)
                finally:
                    current_outbound.reset(token)
        except Exception as exc:
            data["failure"] = exc  # for the outcome counted by zhiban.observe
            self._names.pop(event.sender, None)  # its name was rolled back with the turn
            if isinstance(exc, NotAllowed):
                exc = Refusal(exc.key, **exc.params)  # the reason alone, no usage
            elif isinstance(exc, (DomainError, TooComplex)):
                # A parse out of time is the user's mistake too, from wherever it surfaced.
                exc = UserFacingError(exc.key, **exc.params)
            writer = await self._record_failure(event, data, exc, dispatcher)
            result = None
        if writer is not None:
            for user_id in writer.session.info.get("people_changed", ()):
                self._prefs.pop(user_id, None)
            written = outbox.rows_written(writer.session)
            outbox.wake_relay(written)
            if writer.session.info.get("timers_scheduled") and data.get("wake_bus") is not None:
                await data["wake_bus"].publish(TIMERS)
            # A turn that changed something a board shows wakes the boards, naming what changed
            # so that only the boards concerned read again (zhiban.board_change).
            change = board_change.named(writer.session)
            if change is not None and data.get("wake_bus") is not None:
                await data["wake_bus"].publish(BOARD, change)
        return result

    async def _record_failure(
        self, event: Event, data: dict[str, Any], exc: Exception, dispatcher: Dispatcher
    ) -> OutboxWriter | None:
        try:
            async with self.db.transaction() as session:
                if not await ledger.mark_handled(session, event.event_id, event.room_id):
                    return None  # handled meanwhile (by a racing copy): that one answered
                writer = OutboxWriter(session)
                token = current_outbound.set(writer)
                try:
                    data["session"] = session
                    state = data.get("state")
                    if isinstance(state, FSMContext):
                        # The step the failed turn took was rolled back; so is what it cached.
                        data["state"] = FSMContext(state.storage, state.key)
                    with fsm_store.bound_to(session):
                        await dispatcher.report_error(event, data, exc)
                finally:
                    current_outbound.reset(token)
            return writer
        except IntegrityError:
            return None

    async def _load_preferences(self, session: Any, event: Event, data: dict[str, Any]) -> None:
        now = time.monotonic()
        cached = self._prefs.get(event.sender)
        if cached is not None and cached[0] > now:
            lang, tz = cached[1], cached[2]
        else:
            lang, tz = await people.preferences(session, event.sender)
            if len(self._prefs) > 10_000:
                self._prefs.clear()
            self._prefs[event.sender] = (now + self.PREFS_TTL, lang, tz)
        settings = data.get("settings")
        data["lang"] = lang or (settings.default_lang if settings else "zh")
        data["tz"] = tz or (settings.default_tz if settings else "Asia/Shanghai")
        catalog = data["catalog"]
        data["t"] = translator(catalog, data["lang"])
        roles, client = data.get("roles"), data.get("client")

        async def resolve_roles(user_id: str, room_id: str | None = None) -> set[str]:
            """Roles from config and the database, plus admin for room power level 100."""
            level = client.power_level(room_id or event.room_id, user_id) if client is not None else 0
            return set(await roles.roles_of(session, user_id, power_level=level)) if roles else set()

        data["resolve_roles"] = resolve_roles
        # The people a message names, resolved once for every feature (records.directory).
        data["directory"] = PeopleDirectory(
            session,
            event.room_id,
            lookup=RoomMembers(client),
            configured=roles.everyone() if roles else (),
            server=settings.matrix.server_name if isinstance(settings, Settings) else "",
        )
        directory = data["directory"]
        await self._learn_name(session, event, directory.lookup, directory.server)

    async def _learn_name(self, session: Any, event: Event, lookup: MemberLookup, server: str) -> None:
        """Keep the display names (as the room shows them) of the sender and of the people their
        message names, for texts written later where no client is at hand (an order's card, a
        nag); written only when one changed since this process last saw it."""
        who = [event.sender]
        if isinstance(event, Message) and "@" in event.body:
            who += user_ids_in(text_with_ids(event.body, event.html, server))
        members = lookup.members(event.room_id)
        changed = {user: members[user] for user in who if members.get(user) and self._names.get(user) != members[user]}
        if not changed:
            return
        await people.learn_names(session, changed)
        if len(self._names) > 10_000:
            self._names.clear()
        self._names.update({user: name for user, name in changed.items() if name})


def build_turn(event: Event, data: dict[str, Any]) -> None:
    """Hand handlers one typed `turn` (commands.turn) alongside the loose values it gathers.

    A Dispatcher.turn_builder: it runs inside ExactlyOnce's transaction, once the event's
    state is known. The loose keys stay while features move to `turn`.
    """
    if "session" not in data or data.get("client") is None:
        return  # not a turn of the app's (a framework-only dispatcher, a benchmark)
    data["turn"] = Turn(
        session=data["session"],
        clock=data["clock"],
        settings=data["settings"],
        roles=data["roles"],
        client=data["client"],
        state=data["state"],
        catalog=data["catalog"],
        t=data["t"],
        lang=data["lang"],
        tz=data["tz"],
        directory=data["directory"],
        resolve_roles=data["resolve_roles"],
        db=data["db"],
    )
