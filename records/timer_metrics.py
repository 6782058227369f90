"""What the timers did, for Prometheus and the log: which timer, of what kind, for which record,
how late it ran and how long it took. Payload values that are ids name the record; nothing else
of the payload (it may hold a message's text) is logged.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Histogram

log = logging.getLogger("zhiban.timers")

# A timer that starts running this long after its due time counts as late.
LATE_SECONDS = 5.0

CLAIMED = Counter("zhiban_timers_claimed", "Due timers claimed by a pump and handed to a job")
# A run whose handler ran but whose claim was lost meanwhile (the timer cancelled, moved, or
# taken by another job after a lapsed lease): the run that holds the timer reports it.
LOST = "lost"
FIRED = Counter(
    "zhiban_timers_fired", "Timers run, by kind and outcome (done, skipped, lost, failed, error)", ["kind", "outcome"]
)
LATE = Counter("zhiban_timers_late", f"Timers that started more than {LATE_SECONDS:g} s after their due time", ["kind"])
LATENESS = Histogram(
    "zhiban_timer_lateness_seconds",
    "How long after its due time a timer started running, by kind",
    ["kind"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
)
RUN_SECONDS = Histogram(
    "zhiban_timer_run_seconds",
    "How long a timer's handler ran (a transcription, a push round, a reminder), by kind",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


# Payload keys that name a record without saying "_id", and the person a timer is for.
RECORD_KEYS = ("note", "incident", "order", "meeting", "task", "approval", "notice")
PERSON_KEY = "user"


def record_ids(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Which record (task_id, notice_id, note_id…) and person a timer is about, from its payload.

    A bare "id" is the record of the timer's feature: "reminder.fire" {"id": 3} → reminder_id 3.
    """
    found: dict[str, Any] = {}
    for key, value in payload.items():
        if not isinstance(value, (int, str)) or len(str(value)) > 128:
            continue
        if key == "id":
            found[kind.split(".", 1)[0] + "_id"] = value
        elif key.endswith("_id") or key == PERSON_KEY:
            found[key] = value
        elif key in RECORD_KEYS:
            found[key + "_id"] = value
    return found


def observe(
    timer_id: int,
    kind: str,
    due_at: datetime,
    started_at: datetime,
    *,
    outcome: str,
    seconds: float,
    key: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Count one run of a timer and log it in domain words."""
    lateness = max(0.0, (started_at - due_at).total_seconds())
    FIRED.labels(kind, outcome).inc()
    if outcome != "skipped":
        RUN_SECONDS.labels(kind).observe(seconds)  # a lost run's work was done all the same
    if outcome not in ("skipped", LOST):
        # Lateness is the timer's, reported once: by the run that completes it.
        LATENESS.labels(kind).observe(lateness)
        if lateness > LATE_SECONDS:
            LATE.labels(kind).inc()
    ids = record_ids(kind, payload or {})
    level = {"done": logging.INFO, LOST: logging.INFO, "skipped": logging.DEBUG}.get(outcome, logging.WARNING)
    log.log(
        level,
        "timer %s (%s%s) %s, %.1f s late, in %.2f s",
        timer_id,
        kind,
        "".join(f" {name}={value}" for name, value in ids.items()),
        outcome,
        lateness,
        seconds,
        extra={
            "timer_id": timer_id,
            "kind": kind,
            "timer_key": key,
            "outcome": outcome,
            "lateness_seconds": round(lateness, 3),
            "seconds": round(seconds, 4),
            **ids,
        },
    )
