"""Wiring: the dispatcher with every feature's routers, texts and timers.

This is the only place that knows all the packages; each feature exposes a router, its
texts and its timer handlers, and this module puts them together.
"""

from __future__ import annotations

from typing import Any

from bot import Catalog, Dispatcher
from bot.fsm import BaseStorage
from bot.help import help_router
from records.clock import Clock, SystemClock
from records.config import Settings
from records.db import Database
from records.people import RoleBook
from records.timers import TimerRegistry
from zhiban import help_groups
from zhiban.features import FEATURES
from zhiban.fsm_store import DatabaseStorage
from zhiban.middlewares import ExactlyOnce, build_turn
from zhiban.observe import Observed

BASE_MODEL_MODULES = ["records.models", "records.stepup"]


def model_modules() -> list[str]:
    """Every module with tables, for the migrations (alembic's env imports them)."""
    modules = list(BASE_MODEL_MODULES)
    for feature in FEATURES:
        modules.extend(feature.model_modules)
    return modules


def build_catalog(settings: Settings) -> Catalog:
    catalog = Catalog(default_lang=settings.default_lang)
    for feature in FEATURES:
        catalog.add(feature.texts)
    catalog.add(help_groups.TEXTS)
    return catalog


def build_timers(settings: Settings) -> TimerRegistry:
    registry = TimerRegistry()
    for feature in FEATURES:
        feature.register_timers(registry, settings)
    return registry


def build_dispatcher(
    settings: Settings,
    db: Database,
    *,
    storage: BaseStorage | None = None,
    clock: Clock | None = None,
    extra_context: dict[str, Any] | None = None,
) -> Dispatcher:
    roles = RoleBook(settings.roles)
    clock = clock or SystemClock()
    dispatcher = Dispatcher(
        # Wizard state in the database, in the transaction of each turn (see zhiban.fsm_store).
        storage=storage or DatabaseStorage(db, clock),
        catalog=build_catalog(settings),
        max_message_chars=settings.matrix.max_message_chars,
        prefixes=tuple(dict.fromkeys([settings.matrix.prefix, "!", "！"])),
        report_errors=False,  # ExactlyOnce answers failures after rolling back
        settings=settings,
        db=db,
        roles=roles,
        clock=clock,
        help_groups=help_groups.HELP_GROUPS,
        **(extra_context or {}),
    )
    dispatcher.outer_middleware(Observed())  # outermost: counts and times the whole turn
    dispatcher.outer_middleware(ExactlyOnce(db))
    dispatcher.turn_builder(build_turn)
    dispatcher.include_router(help_router())
    for feature in FEATURES:
        dispatcher.include_router(feature.router())  # fresh routers for each dispatcher
    return dispatcher
