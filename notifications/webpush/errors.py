"""Exceptions raised by the Web Push core.

They all derive from ``WebPushError`` so callers can catch the family, and the
validation ones also derive from ``ValueError`` because they describe bad input
(a subscription, an endpoint, a payload) rather than a failure of the network.
"""

from __future__ import annotations


class WebPushError(Exception):
    """Base class of every error raised by ``notifications.webpush``."""


class PushValidationError(WebPushError, ValueError):
    """The request can never succeed as given; retrying would not help."""


class InvalidSubscriptionKeys(PushValidationError):
    """The subscription's ``p256dh`` or ``auth`` value is not usable."""


class EndpointNotAllowed(PushValidationError):
    """The endpoint is not an https URL of a known push service."""


class PayloadTooLarge(PushValidationError):
    """The encrypted payload would not fit into one 4096-byte push message."""


class InvalidTopic(PushValidationError):
    """A ``Topic`` header must be at most 32 characters of the base64url alphabet."""


class InvalidVapidConfig(WebPushError, ValueError):
    """The VAPID private key or subject cannot be used."""
