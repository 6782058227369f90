"""Exceptions of the framework.

nio returns error objects instead of raising; the framework turns them into exceptions so
that a failed send cannot pass unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MatrixError(Exception):
    """The homeserver refused a request."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status_code = getattr(response, "status_code", None)
        self.errcode = getattr(response, "status_code", None)
        self.retry_after_ms = getattr(response, "retry_after_ms", None)
        super().__init__(f"{type(response).__name__}: {getattr(response, 'message', response)}")


def check(response: Any) -> Any:
    """Return a successful nio response, raise MatrixError for an error response."""
    from nio import ErrorResponse

    if isinstance(response, ErrorResponse):
        raise MatrixError(response)
    return response


class UserFacingError(Exception):
    """A mistake of the user's, answered with a short bilingual message (and usage when the
    mistake is in the words, see `shows_usage`).

    `key` names a text in the translation catalog; `params` fill its placeholders.
    `usage_of` names the command whose usage is appended to the reply.
    """

    def __init__(self, key: str, *, usage_of: str | None = None, **params: Any) -> None:
        self.key = key
        self.usage_of = usage_of
        self.params = params
        super().__init__(key)

    @classmethod
    def with_params(cls, key: str, params: Mapping[str, object], *, usage_of: str | None = None) -> UserFacingError:
        """The error for another layer's (key, params), such as timeparse's, passed on whole:
        the parameters are text values of every kind, never this class's own keywords."""
        made = cls(key, usage_of=usage_of)
        made.params = dict(params)
        return made

    @property
    def shows_usage(self) -> bool:
        """Whether the reply ends with the command's usage: a plain UserFacingError is wrong
        words; a refusal (lack of permission, ownership, state) is raised as `Refusal`."""
        return True


class Refusal(UserFacingError):
    """The person may not do this (role, ownership, state): usage would only invite a retry
    that fails again, so the reply is the reason alone."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key, **params)

    @property
    def shows_usage(self) -> bool:
        return False
