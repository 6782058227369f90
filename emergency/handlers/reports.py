"""Chat handlers of reports: !report first|update|final, asked field by field when missing."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial

from bot import (
    UNHANDLED,
    CommandObject,
    Message,
    Reaction,
    ReactionEvent,
    Router,
    State,
    StateFilter,
    StatesGroup,
    UserFacingError,
)
from bot.filters import parsed_command
from bot.i18n import Translator
from bot.offloop import off_loop
from commands.plugin import LatestTranscript
from commands.turn import Turn
from emergency import cards, incidents, outreach, reports, room_admin
from emergency.commands import REPORT
from emergency.grammar import parse_report_fields
from emergency.models import Report
from emergency.texts import tr
from records import outbox
from records.clock import Clock
from records.config import Settings
from timeparse import format_when

SKIP_WORDS = {"跳过", "skip", "!skip", "！跳过", "!跳过", "略", "无"}
#: The reporter's confirmation that the transcript of their last voice message is the answer.
USE_WORDS = {"采用", "用语音", "确认采用", "use", "use it", "use voice"}
CANCEL_WORDS = {"取消", "cancel", "!cancel", "！取消", "!取消", "放弃"}


class ReportFlow(StatesGroup):
    filling = State()


async def report(message: Message, command: CommandObject, turn: Turn) -> None:
    session, clock, state, t = turn.session, turn.clock, turn.state, turn.t
    incident = await incidents.in_room(session, message.room_id)
    if incident is None:
        raise UserFacingError("em.report.not_in_incident", usage_of="report")
    words = command.argv
    kind = reports.parse_kind(words[0]) if words else None
    if kind is None:
        raise UserFacingError("em.report.bad_kind", usage_of="report", value=(words[0] if words else "")[:20])
    await reports.check_can_file(session, incident, kind)
    fields = await off_loop(parse_report_fields, command.args.split(None, 1)[1] if len(words) > 1 else "")
    pending = [f for f in reports.FIELDS if f not in fields]
    if not pending:
        await _file(turn, _Reporter.of(message), incident.id, kind, fields)
        return
    await state.set_state(ReportFlow.filling)
    await state.set_data(
        {
            "incident": incident.id,
            "kind": kind,
            "fields": fields,
            "pending": pending,
            "started": clock.now().isoformat(),
        }
    )
    number = await reports.next_number(session, incident, kind)
    await message.reply(
        t("em.report.start", name=cards.report_name(kind, number, turn.lang), id=incident.code)
        + "\n"
        + _question(pending[0], t)
    )


def _question(field: str, t: Translator) -> str:
    return t("em.report.ask", field=t(f"em.field.{field}"), hint=t(f"em.hint.{field}"))


@dataclass(frozen=True)
class _Flow:
    """The wizard's state as stored (JSON in the FSM storage), read back value by value."""

    incident: int
    kind: str
    started: datetime  # answers spoken before it are not this report's
    fields: dict[str, str]
    pending: list[str]
    # The fields filled from each voice note (its number -> field -> value as transcribed), so
    # that a correction of the transcript before the report is filed corrects the draft too.
    spoken: dict[str, dict[str, str]]

    @classmethod
    def read(cls, data: Mapping[str, object]) -> _Flow:
        incident, kind, started = data.get("incident"), data.get("kind"), data.get("started")
        fields, pending, spoken = data.get("fields"), data.get("pending"), data.get("spoken")
        return cls(
            incident=incident if isinstance(incident, int) else 0,
            kind=str(kind or ""),
            started=datetime.fromisoformat(started)
            if isinstance(started, str) and started
            else datetime.min.replace(tzinfo=UTC),
            fields={str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {},
            pending=[str(f) for f in pending] if isinstance(pending, list) else [],
            spoken={
                str(note): {str(k): str(v) for k, v in used.items()}
                for note, used in (spoken.items() if isinstance(spoken, dict) else ())
                if isinstance(used, dict)
            },
        )


@dataclass(frozen=True)
class _Reporter:
    """Who answers the report wizard, where, and how to answer them: a reply, or a room message
    when their answer was a reaction. The rest of the turn is the typed `Turn`."""

    sender: str
    room_id: str
    say: Callable[[str], Awaitable[object]]

    @classmethod
    def of(cls, message: Message) -> _Reporter:
        return cls(message.sender, message.room_id, message.reply)


async def answer(message: Message, turn: Turn, transcripts: LatestTranscript, **data: object) -> object:
    # `data` is the dispatcher's own per-event dict, read only by parsed_command (bot.filters).
    state, t = turn.state, turn.t
    body = message.body.strip()
    word = body.lower()
    if parsed_command(message, data) is not None and word not in SKIP_WORDS | CANCEL_WORDS:
        return UNHANDLED  # another command in the middle of the flow runs as usual
    flow = _Flow.read(await state.get_data())
    if word in CANCEL_WORDS:
        await state.clear()
        await message.reply(t("em.report.cancelled"))
        return None
    pending, fields = list(flow.pending), dict(flow.fields)
    if message.is_voice:
        # A spoken answer: the voice feature transcribes it as usual (the next handler), and the
        # reporter confirms with "采用" or ✅ on the transcript. Never the file name as text.
        field = t(f"em.field.{pending[0]}") if pending else ""
        await message.reply(t("em.report.voice_hint", field=field))
        return UNHANDLED
    who = _Reporter.of(message)
    if word in USE_WORDS:
        await _use_voice(turn, who, flow, transcripts, note_id=None)
        return None
    if pending:
        current = pending.pop(0)
        if word not in SKIP_WORDS and body:
            reports.check_fits(fields, {current: body}, _limit(turn.settings))
            fields[current] = body
    await _advance(turn, who, flow, fields, pending, transcripts=transcripts)
    return None


async def use_voice_by_reaction(reaction: ReactionEvent, turn: Turn, transcripts: LatestTranscript) -> object:
    """✅ on the transcript of one's own voice message, while filling a report: use it."""
    ref = await outbox.ref_for_event(turn.session, reaction.reacts_to)
    found = re.fullmatch(r"voice:V(\d+)", ref or "")
    if found is None:
        return UNHANDLED  # some other ✅ (an order, a hand-over): not the wizard's

    async def say(text: str) -> None:
        await reaction.outbound.send(reaction.room_id, outbox.text_content(text))

    who = _Reporter(reaction.sender, reaction.room_id, say)
    flow = _Flow.read(await turn.state.get_data())
    await _use_voice(turn, who, flow, transcripts, note_id=int(found.group(1)))
    return None


async def _use_voice(
    turn: Turn, who: _Reporter, flow: _Flow, transcripts: LatestTranscript, *, note_id: int | None
) -> None:
    """Fill the report from a transcript, then ask the next question or file the report."""
    pending, fields = list(flow.pending), dict(flow.fields)
    found = await _spoken_fields(turn, who, flow, pending, note_id, transcripts)
    if found is None:
        return  # nothing to use yet: the reporter was told why, and the question stands
    heard, used = found
    fields.update(heard)
    pending = [f for f in pending if f not in heard]
    flow = replace(flow, spoken={**flow.spoken, str(used): heard})
    names = ("、" if turn.lang.startswith("zh") else ", ").join(turn.t(f"em.field.{f}") for f in heard)
    prefix = turn.t("em.report.voice_used", fields=names) + "\n"
    await _advance(turn, who, flow, fields, pending, prefix=prefix, transcripts=transcripts)


async def _advance(
    turn: Turn,
    who: _Reporter,
    flow: _Flow,
    fields: dict[str, str],
    pending: list[str],
    *,
    prefix: str = "",
    transcripts: LatestTranscript | None = None,
) -> None:
    """The next question, or, with none left, the report filed."""
    fields = await _as_corrected(turn, who, flow, fields, transcripts)
    if pending:
        await turn.state.update_data(pending=pending, fields=fields, spoken=flow.spoken)
        await who.say(prefix + _question(pending[0], turn.t))
        return
    await turn.state.clear()
    await _file(turn, who, flow.incident, flow.kind, fields, prefix=prefix)


async def _as_corrected(
    turn: Turn, who: _Reporter, flow: _Flow, fields: dict[str, str], transcripts: LatestTranscript | None
) -> dict[str, str]:
    """``fields`` with each value taken from a voice note replaced by what its transcript says
    now, when someone corrected it after it was used (a value the reporter retyped stays)."""
    if transcripts is None or not flow.spoken:
        return fields
    fields = dict(fields)
    for number, used in flow.spoken.items():
        note = await transcripts(
            turn.session, room_id=who.room_id, sender=who.sender, since=flow.started, note_id=int(number)
        )
        if note is None or note.status != "done" or not note.text:
            continue
        fallback = next(iter(used)) if len(used) == 1 else None
        now = await _fields_of(note.text, fallback)
        for field, value in used.items():
            if fields.get(field) == value and now.get(field):
                fields[field] = now[field]
    return fields


async def _fields_of(text: str, fallback: str | None) -> dict[str, str]:
    """The report fields a transcript names ("地点：… 影响：…"), or all of it as ``fallback``."""
    heard = {f: v for f, v in (await off_loop(parse_report_fields, text)).items() if f in reports.FIELDS}
    return heard if heard or fallback is None else {fallback: text}


async def _spoken_fields(
    turn: Turn,
    who: _Reporter,
    flow: _Flow,
    pending: list[str],
    note_id: int | None,
    transcripts: LatestTranscript,
) -> tuple[dict[str, str], int] | None:
    """The fields (and the note's number) in the transcript of the reporter's voice message (``note_id``, or their last
    one) since the report began: "地点：… 影响：…" fills those fields, plain speech answers the
    current question. None (after telling the reporter why) when there is no transcript to use."""
    note = await transcripts(turn.session, room_id=who.room_id, sender=who.sender, since=flow.started, note_id=note_id)
    if note is None:
        await who.say(turn.t("em.report.voice_none"))
        return None
    if note.status == "queued":
        await who.say(turn.t("em.report.voice_waiting"))
        return None
    if note.status != "done" or not note.text:
        await who.say(turn.t("em.report.voice_failed"))
        return None
    heard = await _fields_of(note.text, pending[0] if pending else None)
    reports.check_fits(dict(flow.fields), heard, _limit(turn.settings))
    return heard, note.id


def _limit(settings: Settings) -> int:
    """What a report's fields may take in all: one message's worth (it is posted as one)."""
    return int(settings.matrix.max_message_chars)


async def _file(
    turn: Turn, who: _Reporter, incident_id: int, kind: str, fields: dict[str, str], *, prefix: str = ""
) -> None:
    session, clock, t, lang, tz = turn.session, turn.clock, turn.t, turn.lang, turn.tz
    incident = await incidents.get(session, incident_id)
    filed = await reports.file_report(session, incident, kind=kind, fields=fields, actor=who.sender, clock=clock)
    text = render_report(filed, lang, tz, clock)
    next_line = ""
    if incident.next_report_due is not None:
        name = cards.report_name("update", incident.updates_filed + 1, lang)
        next_line = "\n" + t(
            "em.report.next_due", name=name, due=format_when(incident.next_report_due, tz=tz, lang=lang)
        )
    await who.say(prefix + text + next_line)
    duty_room = await room_admin.duty_room_id(turn.settings, turn.client)
    if duty_room and duty_room != who.room_id:
        await outreach.post(
            session,
            duty_room,
            f"{incident.code} {incident.title}\n" + render_report(filed, incident.lang, incident.tz, clock),
        )


def render_report(report: Report, lang: str, tz: str, clock: Clock) -> str:
    name = cards.report_name(report.kind, report.number, lang)
    late = " " + tr("em.report.late_mark", lang) if report.late else ""
    lines = [tr("em.report.filed", lang, name=name, late=late)]
    at = format_when(report.filed_at, tz=tz, lang=lang)
    lines.append(tr("em.field.line", lang, name=tr("em.field.report_time", lang), value=at))
    if report.late and report.due_at is not None:
        lines.append(tr("em.report.was_due", lang, due=format_when(report.due_at, tz=tz, lang=lang)))
    for key in reports.FIELDS:
        value = (report.fields or {}).get(key)
        lines.append(tr("em.field.line", lang, name=tr("em.field." + key, lang), value=value or "—"))
    return "\n".join(lines)


def router(transcripts: LatestTranscript) -> Router:
    """The report wizard's router; a spoken answer is read with ``transcripts`` (the voice
    feature's look-up, handed in by the wiring, so that emergency imports nothing of voice)."""
    made = Router("emergency.reports")
    made.message(REPORT)(report)
    made.message(StateFilter(ReportFlow.filling))(partial(answer, transcripts=transcripts))
    made.reaction(Reaction("✅", "✔", "☑", "👍"), StateFilter(ReportFlow.filling))(
        partial(use_voice_by_reaction, transcripts=transcripts)
    )
    return made
