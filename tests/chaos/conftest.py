"""Fault tests: the real bot against a real homeserver that goes away and comes back."""

from tests.e2e.conftest import make_bot

__all__ = ["make_bot"]
