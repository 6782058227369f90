"""The meetings feature's chat side: one router, made fresh for each dispatcher.

Flows waiting for an answer first (the scheduling wizard, its confirmation), then answers to
notices, then the commands and the card's thread.
"""

from __future__ import annotations

from functools import partial

from bot import Reaction, Router, StateFilter
from bot.filters import PlainText
from commands import prompts
from commands.meetings.commands import ACTION, ATTEND, CHECKIN, CONFIRM, DEPUTY, LEAVE, MEETING, MEETINGS, MINUTES
from commands.meetings.handlers import during, meeting, rsvp, schedule
from commands.meetings.handlers.rsvp import Answer
from commands.meetings.handlers.schedule import NewMeeting
from commands.plugin import MakeTask


def router(make_task: MakeTask) -> Router:
    """``make_task``: the tasks feature's hook, for the minutes' action items."""
    made = Router("meetings")
    # Scheduling: the wizard's answers and the confirmation of a meeting with conflicts.
    made.message(StateFilter(*NewMeeting.states()), PlainText())(schedule.wizard_answer)
    made.message(CONFIRM, StateFilter(NewMeeting.confirm))(schedule.confirm_command)
    made.reaction(Reaction("✅", "❌"), StateFilter(NewMeeting.confirm))(schedule.confirm_reaction)
    # Answers: reactions on a card or notice, the questions they ask, and the commands.
    made.reaction(Reaction("✅", "❌", "🔁"), rsvp.on_meeting_notice)(rsvp.answer_by_reaction)
    made.message(prompts.answer_to_prompt(Answer.reason))(rsvp.reason_answer)
    made.message(prompts.answer_to_prompt(Answer.deputy))(rsvp.deputy_answer)
    made.message(ATTEND)(rsvp.attend)
    made.message(LEAVE)(rsvp.leave)
    made.message(DEPUTY)(rsvp.deputy)
    # The rest of a meeting's life.
    made.message(MEETING)(meeting.meeting_command)
    made.message(MEETINGS)(meeting.list_meetings)
    made.message(CHECKIN)(during.checkin)
    made.message(MINUTES)(during.minutes_command)
    made.message(ACTION)(partial(during.action_command, make_task=make_task))
    made.message(during.in_meeting_thread)(during.thread_minutes)
    return made
