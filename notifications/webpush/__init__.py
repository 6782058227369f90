"""Web Push sending core: encryption, VAPID, endpoint allowlist and an async sender.

No database and no web framework here: callers pass ``Subscription`` values in
and act on ``SendOutcome`` values (e.g. delete the subscription when
``outcome.should_delete_subscription``).
"""

from notifications.webpush.allowlist import DEFAULT_PUSH_HOSTS, Allowlist
from notifications.webpush.crypto import (
    MAX_PLAINTEXT,
    b64url_decode,
    b64url_encode,
    encrypt_message,
    validate_subscription_keys,
)
from notifications.webpush.errors import (
    EndpointNotAllowed,
    InvalidSubscriptionKeys,
    InvalidTopic,
    InvalidVapidConfig,
    PayloadTooLarge,
    PushValidationError,
    WebPushError,
)
from notifications.webpush.sender import (
    DEFAULT_TTL,
    OutcomeKind,
    PushItem,
    RetryPolicy,
    SendOutcome,
    Subscription,
    Urgency,
    WebPushSender,
    check_subscription,
    validate_topic,
)
from notifications.webpush.vapid import VapidSigner, generate_vapid_keys

__all__ = [
    "DEFAULT_PUSH_HOSTS",
    "DEFAULT_TTL",
    "MAX_PLAINTEXT",
    "Allowlist",
    "EndpointNotAllowed",
    "InvalidSubscriptionKeys",
    "InvalidTopic",
    "InvalidVapidConfig",
    "OutcomeKind",
    "PayloadTooLarge",
    "PushItem",
    "PushValidationError",
    "RetryPolicy",
    "SendOutcome",
    "Subscription",
    "Urgency",
    "VapidSigner",
    "WebPushError",
    "WebPushSender",
    "b64url_decode",
    "b64url_encode",
    "check_subscription",
    "encrypt_message",
    "generate_vapid_keys",
    "validate_subscription_keys",
    "validate_topic",
]
