"""Which Redis the tests use: an embedded one of their own, unless ZHIBAN_TEST_REDIS names one.

The tests flush their database. A default pointing at localhost would flush whatever a
developer keeps there, so a server is used only when asked for by name.
"""

from __future__ import annotations

from collections.abc import Mapping

ENV = "ZHIBAN_TEST_REDIS"


def chosen_server(environ: Mapping[str, str]) -> str | None:
    """The Redis URL the developer chose for the tests, or None for an embedded redis-server."""
    return environ.get(ENV) or None
