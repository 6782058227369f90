"""The chat features Zhiban is made of, in the order their routers are tried.

Each entry is a typed plug-in (commands.plugin.Feature) that the feature exports as `FEATURE`
from its feature.py (see docs/adding-a-feature.md).
"""

from __future__ import annotations

from commands.approvals.feature import FEATURE as APPROVALS
from commands.audit.feature import FEATURE as AUDIT
from commands.board.feature import board_feature
from commands.general.feature import FEATURE as GENERAL
from commands.meetings.feature import meetings_feature
from commands.plugin import Feature, VoiceFiler
from commands.push.feature import FEATURE as PUSH
from commands.security.feature import FEATURE as SECURITY
from commands.tasks.feature import FEATURE as TASKS
from commands.tasks.feature import make_task
from commands.voice.feature import latest_transcript, voice_feature
from emergency.board import duty_leader_now
from emergency.feature import emergency_feature

_OTHERS: list[Feature] = [
    GENERAL,
    PUSH,
    SECURITY,
    TASKS,
    APPROVALS,
    # A meeting's action items become supervised tasks through the tasks feature's hook.
    meetings_feature(make_task),
    # The report wizard takes a spoken answer: it reads it with the voice feature's look-up.
    emergency_feature(latest_transcript),
    AUDIT,
]

# Voice is tried last (a report wizard takes a spoken answer first) and files each transcript
# with the filers the others contribute: it knows none of them, the wiring hands them over.
VOICE_FILERS: tuple[VoiceFiler, ...] = tuple(filer for feature in _OTHERS for filer in feature.voice_filers)
# `!search` asks the others' searchers too, in this order (a tie in score and time keeps it).
SEARCHERS = tuple(searcher for feature in _OTHERS for searcher in feature.searchers)
# The board shows every feature's section (each scoped by its own rule) and knows none of them;
# the morning briefing also goes to the duty leader the roster names.
BOARD_SECTIONS = tuple(section for feature in _OTHERS for section in feature.board_sections)
FEATURES: list[Feature] = [
    *_OTHERS,
    board_feature(BOARD_SECTIONS, duty_leader_now),
    voice_feature(VOICE_FILERS, SEARCHERS),
]
