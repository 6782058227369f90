"""The audit key and checkpoint file from the settings, given to each process at start.

Every process that writes audit entries (bot, server, worker, the CLI's writing commands)
calls `install` first, so that its entries are sealed. Only writers create a missing key file;
`zhiban audit verify` never does (a fresh key would only make every seal look forged).
"""

from __future__ import annotations

from pathlib import Path

from records.audit_seal import Anchors, key_from_text, load_key
from records.audit_seal import install as install_anchors
from records.config import Settings


def key_file(settings: Settings) -> Path:
    return Path(settings.audit.key_file) if settings.audit.key_file else settings.data_dir / "audit.key"


def checkpoint_file(settings: Settings) -> Path:
    configured = settings.audit.checkpoint_file
    return Path(configured) if configured else settings.data_dir / "audit-checkpoints.jsonl"


def anchors(settings: Settings, *, create_key: bool) -> Anchors:
    """Raises records.audit_seal.AuditKeyError, in plain words, when there is no usable key."""
    if settings.audit.key:
        key = key_from_text(settings.audit.key, where="audit.key (ZHIBAN_AUDIT__KEY)")
    else:
        key = load_key(key_file(settings), create=create_key)
    return Anchors(
        key=key,
        checkpoint_file=checkpoint_file(settings),
        room=settings.audit.room or None,
        lang=settings.default_lang,
    )


def install(settings: Settings) -> Anchors:
    """Seal what this process writes from now on (the key file is made on first start)."""
    given = anchors(settings, create_key=True)
    install_anchors(given)
    return given
