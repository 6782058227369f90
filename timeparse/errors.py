"""The one exception of the time parser, carrying a text key rather than a sentence.

Handlers render it in the user's language with ``err.message(lang)``; services
can branch on ``err.key`` without parsing prose.
"""

from __future__ import annotations

from .texts import text


class TimeParseError(ValueError):
    """A time or repeat rule could not be understood, or lies in the past."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params: dict[str, object] = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "zh") -> str:
        return text(self.key, lang, **self.params)
