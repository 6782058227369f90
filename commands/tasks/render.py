"""How tasks and reminders read: the task card, its history, the lines of `!tasks` and
`!reminders`. Pure functions of a record, a language, a zone and the time; no session."""

from __future__ import annotations

from datetime import datetime, time

from bot.i18n import Translator
from commands.tasks.models import Reminder, Task, TaskNote
from commands.tasks.texts import TEXTS, render
from timeparse import Recurrence, format_when
from timeparse.zones import to_local


def format_due(due_at: datetime, *, tz: str, lang: str, now: datetime, end_of_day: time | None = None) -> str:
    """A deadline, saying "(end of the working day)" when it falls on the office's end of day,
    so that a reader of "截止 明天" sees which hour the bare date was taken to mean."""
    text = format_when(due_at, tz=tz, lang=lang, now=now)
    if end_of_day is not None and to_local(due_at, tz).time().replace(second=0, microsecond=0) == end_of_day:
        text += render("task.end_of_day_tag", lang)
    return text


def _status_line(task: Task, lang: str, tz: str, now: datetime) -> str:
    if task.status == "accepted" and task.accepted_at is not None:
        return render("task.card_accepted", lang, when=format_when(task.accepted_at, tz=tz, lang=lang, now=now))
    if task.status == "cancelled":
        return render("task.card_cancelled", lang)
    overdue = task.status == "open" and task.due_at < now
    status = render("task.status_overdue" if overdue else f"task.status_{task.status}", lang)
    return render("task.card_status", lang, status=status, percent=task.progress)


def render_card(
    task: Task, lang: str, tz: str, now: datetime, *, end_of_day: time | None = None, latest: str = ""
) -> str:
    """The task card in one language: what, who, by when, from where, and where it stands now
    (status, progress, the last note, a pending extension request). `latest` is the last note."""
    co = render("task.co_line", lang, co="、".join(task.co_owners)) if task.co_owners else ""
    source = render("task.source_line", lang, source=task.source) if task.source else ""
    card = render(
        "task.created",
        lang,
        code=task.code,
        priority=render("task.priority_high", lang) if task.priority == "high" else "",
        title=task.title,
        lead=task.lead,
        co=co,
        assigner=task.assigner,
        when=format_due(task.due_at, tz=tz, lang=lang, now=now, end_of_day=end_of_day),
        source=source,
    )
    card += "\n" + _status_line(task, lang, tz, now)
    if latest:
        card += render("task.card_latest", lang, note=latest)
    if task.ext_due_at is not None and task.status == "open":
        when = format_due(task.ext_due_at, tz=tz, lang=lang, now=now, end_of_day=end_of_day)
        card += render("task.card_ext", lang, user=task.ext_by or "", when=when)
    return card


def latest_note(notes: list[TaskNote]) -> str:
    """The last thing the owners said about the work (a progress or completion note)."""
    for note in reversed(notes):
        if note.kind in ("progress", "done") and note.text:
            return note.text[:200]
    return ""


def render_history(task: Task, notes: list[TaskNote], lang: str, tz: str, now: datetime) -> str:
    """`!task T7`: the dates and every step of the history, one line each."""
    lines = [render("task.history_created", lang, when=format_when(task.created_at, tz=tz, lang=lang, now=now))]
    lines.append(render("task.history_title", lang))
    for note in notes:
        percent = f" {note.percent}%" if note.percent is not None and note.kind == "progress" else ""
        text = f"：{note.text}" if lang == "zh" and note.text else (f": {note.text}" if note.text else "")
        lines.append(
            render(
                "task.history_item",
                lang,
                when=format_when(note.at, tz=tz, lang=lang, now=now),
                user=note.author,
                what=render(f"task.note_{note.kind}", lang) if f"task.note_{note.kind}" in TEXTS else note.kind,
                percent=percent,
                text=text[:300],
            )
        )
    return "\n".join(lines)


def describe_status(task: Task, lang: str) -> str:
    return render(f"task.status_{task.status}", lang)


def role_of(task: Task, user: str) -> str:
    if user == task.lead:
        return "lead"
    if user in task.co_owners:
        return "co"
    if user == task.assigner:
        return "assigner"
    return ""


def when_params(task: Task, lang: str, tz: str, now: datetime) -> dict[str, object]:
    """The code, title and deadline of a task, as the chat replies about it name them."""
    # Text parameters of mixed kinds, handed on to a translator as keyword arguments.
    return {"code": task.code, "title": task.title, "when": format_when(task.due_at, tz=tz, lang=lang, now=now)}


def _status_of(task: Task, lang: str, tz: str, now: datetime) -> str:
    status = describe_status(task, lang)
    if task.status == "accepted" and task.accepted_at is not None:
        status += " " + format_when(task.accepted_at, tz=tz, lang=lang, now=now)
    return status


def task_line(task: Task, user: str, t: Translator, lang: str, tz: str, now: datetime) -> str:
    """One line of `!tasks`, as `user` (the one whose list it is) stands to the task."""
    role = role_of(task, user)
    overdue = task.status == "open" and task.due_at < now
    return t(
        "task.list_item",
        flag=("🔴" if overdue else "") + ("❗" if task.priority == "high" else ""),
        role=t(f"task.role_{role}") if role else "",
        percent=task.progress,
        status=_status_of(task, lang, tz, now),
        **when_params(task, lang, tz, now),
    )


def reminder_line(reminder: Reminder, user: str, t: Translator, lang: str, tz: str, now: datetime) -> str:
    """One line of `!reminders`, tagged repeating, alarm, room or subscribed."""
    extra = ""
    if reminder.rule:
        extra += t("reminder.tag_repeat", rule=Recurrence.from_rule(reminder.rule, reminder.tz).describe(lang))
    if reminder.alarm:
        extra += t("reminder.tag_alarm")
    if reminder.target == "room":
        extra += t("reminder.tag_room")
    if reminder.owner != user:
        extra += t("reminder.tag_sub")
    when = format_when(reminder.due_at, tz=tz, lang=lang, now=now)
    return t("reminder.list_item", code=reminder.code, when=when, text=reminder.text, extra=extra)
