"""Errors raised by services when a request cannot be honoured.

Services know nothing of chat; the application turns a DomainError into a bilingual reply
from its text key (and the dashboard or API into a 4xx).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(key)


class NotAllowed(DomainError):
    """The actor may not do this (wrong person, wrong role, wrong state)."""


class NotFound(DomainError):
    """No such item (or not one the actor may see)."""
