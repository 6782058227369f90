"""An iCalendar (.ics) file per meeting, so that it lands in people's calendars.

The UID is stable per meeting and SEQUENCE follows the meeting's revision, so a calendar that
imported the first file updates the event (new time, new place, cancelled) on the next one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

from commands.meetings.models import ATTEND, CANCELLED, DEPUTY, LEAVE, Attendee, Meeting

_PARTSTAT = {ATTEND: "ACCEPTED", LEAVE: "DECLINED", DEPUTY: "DELEGATED"}


def uid_of(meeting: Meeting, domain: str = "zhiban") -> str:
    return f"meeting-{meeting.id}@{domain}"


def _address(user_id: str) -> vCalAddress:
    # Matrix IDs are not mail addresses; a matrix.to URI names the person unambiguously.
    address = vCalAddress(f"https://matrix.to/#/{user_id}")
    address.params["cn"] = vText(user_id)
    return address


def meeting_ics(meeting: Meeting, attendees: list[Attendee], *, now: datetime, domain: str = "zhiban") -> bytes:
    """The meeting as a VCALENDAR with one VEVENT (times in UTC)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Zhiban//Meetings//ZH")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if meeting.status == CANCELLED else "PUBLISH")
    event = Event()
    event.add("uid", uid_of(meeting, domain))
    event.add("dtstamp", now)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", f"{meeting.code} {meeting.title}")
    if meeting.place:
        event.add("location", meeting.place)
    event.add("sequence", meeting.revision)
    event.add("status", "CANCELLED" if meeting.status == CANCELLED else "CONFIRMED")
    event["organizer"] = _address(meeting.organizer)
    for row in attendees:
        address = _address(row.user_id)
        address.params["partstat"] = vText(_PARTSTAT.get(row.response, "NEEDS-ACTION"))
        event.add("attendee", address, encode=False)
    calendar.add_component(event)
    return calendar.to_ical()


MIMETYPE = "text/calendar"


def file_content(filename: str, url: str, size: int) -> dict[str, Any]:
    """The m.file event for an uploaded .ics: clients show it as a downloadable attachment."""
    return {"msgtype": "m.file", "body": filename, "url": url, "info": {"mimetype": MIMETYPE, "size": size}}
