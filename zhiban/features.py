"""The chat features Zhiban is made of, in the order their routers are tried.

Each entry is a typed plug-in (commands.plugin.Feature). A converted feature exports its own
`FEATURE` from its feature.py (see docs/adding-a-feature.md); the others are described here
from what their feature.py exposes until they move to the same shape.
"""

from __future__ import annotations

from typing import Protocol

from bot import Router
from bot.i18n import Texts
from commands.approvals.feature import FEATURE as APPROVALS
from commands.audit.feature import FEATURE as AUDIT
from commands.general.feature import FEATURE as GENERAL
from commands.meetings.feature import FEATURE as MEETINGS
from commands.plugin import Feature, VoiceFiler
from commands.push.feature import FEATURE as PUSH
from commands.tasks.feature import FEATURE as TASKS
from commands.voice.feature import voice_feature
from emergency.feature import FEATURE as EMERGENCY
from records.config import Settings
from records.timers import TimerRegistry


class _UnconvertedFeature(Protocol):
    """What a feature.py not yet in the plug-in shape exposes (see docs/adding-a-feature.md)."""

    @property
    def router(self) -> Router: ...
    @property
    def TEXTS(self) -> Texts: ...
    @property
    def MODEL_MODULES(self) -> list[str]: ...
    @property
    def VOICE_FILERS(self) -> tuple[VoiceFiler, ...]: ...
    def register_timers(self, registry: TimerRegistry, settings: Settings) -> None: ...


def _unconverted(name: str, module: _UnconvertedFeature) -> Feature:
    # Router.copy gives each dispatcher routers of its own, as a router factory would.
    return Feature(
        name=name,
        router=module.router.copy,
        texts=module.TEXTS,
        model_modules=tuple(module.MODEL_MODULES),
        register_timers=module.register_timers,
        voice_filers=module.VOICE_FILERS,
    )


_OTHERS: list[Feature] = [
    GENERAL,
    PUSH,
    TASKS,
    APPROVALS,
    MEETINGS,
    EMERGENCY,
    AUDIT,
]

# Voice is tried last (a report wizard takes a spoken answer first) and files each transcript
# with the filers the others contribute: it knows none of them, the wiring hands them over.
VOICE_FILERS: tuple[VoiceFiler, ...] = tuple(filer for feature in _OTHERS for filer in feature.voice_filers)
FEATURES: list[Feature] = [*_OTHERS, voice_feature(VOICE_FILERS)]
