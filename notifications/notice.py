"""What a flow hands to `notify()`: a notice, and the per-kind push policy it implies."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from notifications.webpush import Urgency
from notifications.webpush.errors import InvalidTopic
from notifications.webpush.sender import validate_topic

# Text in one language, or a mapping of language ("zh", "en") to text.
Localized = str | Mapping[str, str]


class Kind(StrEnum):
    EMERGENCY = "emergency"
    ALERT = "alert"
    APPROVAL = "approval"
    ORDER = "order"
    REMINDER = "reminder"
    DIGEST = "digest"
    TEST = "test"
    MESSAGE = "message"


@dataclass(frozen=True)
class KindPolicy:
    urgency: Urgency
    ttl: int
    """Seconds the push service may hold the message; also the limit of our retries."""
    ignores_quiet_hours: bool = False


# Why these TTLs: an emergency is worth delivering for hours, a reminder is stale once its
# moment has passed, and an approval waits for days anyway.
POLICIES: dict[Kind, KindPolicy] = {
    Kind.EMERGENCY: KindPolicy(Urgency.HIGH, 6 * 3600, ignores_quiet_hours=True),
    Kind.ALERT: KindPolicy(Urgency.HIGH, 6 * 3600),
    Kind.APPROVAL: KindPolicy(Urgency.NORMAL, 3 * 24 * 3600),
    Kind.ORDER: KindPolicy(Urgency.NORMAL, 12 * 3600),
    Kind.REMINDER: KindPolicy(Urgency.NORMAL, 3600),
    Kind.DIGEST: KindPolicy(Urgency.LOW, 12 * 3600),
    Kind.TEST: KindPolicy(Urgency.NORMAL, 600),
    Kind.MESSAGE: KindPolicy(Urgency.NORMAL, 3600),
}


@dataclass(frozen=True)
class NoticeSpec:
    """A notification to send.

    kind       one of `Kind`; decides urgency, TTL and whether quiet hours apply
    title/body text, or {"zh": ..., "en": ...}; each person gets their language
    sensitive  the push carries no title or body, only "you have a new item"
    topic      notices with the same topic replace each other on the device
               (e.g. "approval:A12"); any text, hashed to fit RFC 8030 when needed
    url        where a tap on the notification leads (absolute, or a path on our server)
    ref        what the notice is about, for receipts ("order:O9")
    ttl        overrides the kind's TTL
    dm         "auto": a chat DM when the person has no push subscription, or when all their
               pushes failed; "always": a DM as well as the push; "never": push only
    """

    kind: Kind | str
    title: Localized
    body: Localized = ""
    sensitive: bool = False
    topic: str | None = None
    url: str | None = None
    ref: str | None = None
    ttl: int | None = None
    dm: str = "auto"

    def __post_init__(self) -> None:
        Kind(self.kind)  # raises ValueError on an unknown kind
        if self.dm not in ("auto", "always", "never"):
            raise ValueError("dm must be 'auto', 'always' or 'never'")

    @property
    def policy(self) -> KindPolicy:
        return POLICIES[Kind(self.kind)]


def localized_dict(value: Localized) -> dict[str, str]:
    return {"*": value} if isinstance(value, str) else {str(k): str(v) for k, v in value.items()}


def pick(value: Mapping[str, str], lang: str) -> str:
    """The text in `lang`, else the language-free one, else Chinese, else anything."""
    for key in (lang, "*", "zh", "en"):
        if value.get(key):
            return value[key]
    return next(iter(value.values()), "")


def topic_header(topic: str | None) -> str | None:
    """A valid RFC 8030 Topic for any text: as is when it fits, else a stable 32-char hash."""
    if topic is None:
        return None
    try:
        return validate_topic(topic)
    except InvalidTopic:
        digest = hashlib.sha256(topic.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]
