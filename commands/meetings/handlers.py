"""The chat adapter of meetings: scheduling (with its wizard), answers, and everything after."""

from __future__ import annotations

from bot import Router
from commands.meetings.handlers_ops import router as ops_router
from commands.meetings.handlers_rsvp import router as rsvp_router
from commands.meetings.handlers_schedule import router as schedule_router

router = Router("meetings")
# Flows waiting for an answer first, then reactions on notices, then commands and threads.
router.include_router(schedule_router)
router.include_router(rsvp_router)
router.include_router(ops_router)
