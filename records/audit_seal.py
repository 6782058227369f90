"""What anchors the audit trail outside the database: the sealing key and the checkpoints.

The chain of hashes (records.audit) shows an edit only to someone who did not recompute it;
anybody who can write to the database can recompute it. So each entry also carries an HMAC
made with a key that never enters the database, and the chain head is signed now and then
(a checkpoint) and written to a file and a chat room, where a database editor cannot reach.

The key is given to each process once at start (`install`), by the CLI from the settings:
records never reads the config.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

MIN_KEY_CHARS = 32
_PRIVATE_FILE_MODE = 0o600
_PRIVATE_DIR_MODE = 0o700


class AuditKeyError(Exception):
    """The sealing key cannot be had; the message says what to do, in plain words."""


class CheckpointFileError(Exception):
    """A line of the checkpoint file is not a checkpoint."""


# -- the key ------------------------------------------------------------------------------
def key_from_text(text: str, *, where: str) -> bytes:
    value = text.strip()
    if len(value) < MIN_KEY_CHARS:
        raise AuditKeyError(f"the audit key in {where} is {len(value)} characters; it needs at least {MIN_KEY_CHARS}")
    return value.encode()


def load_key(path: Path, *, create: bool) -> bytes:
    """Read the key file; with `create`, make it first (0600, a fresh random key) if it is missing.

    Several processes may start at once on one machine (`zhiban up`): the file is written
    under a temporary name and linked into place, so each of them ends up with the same key
    and none ever reads a half-written file.
    """
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=_PRIVATE_DIR_MODE)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE_MODE)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32) + "\n")
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)
                log.warning("created a new audit key at %s: back it up; without it the trail cannot be verified", path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise AuditKeyError(
            f"no audit key at {path}. The key seals every entry and is kept outside the database: "
            "restore it from your backup, or set ZHIBAN_AUDIT__KEY (a new installation makes one when "
            "the bot, server or worker first starts). Without it the trail cannot be verified."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyError(f"cannot read the audit key at {path}: {exc}") from None
    return key_from_text(text, where=str(path))


def _mac(key: bytes, *parts: object) -> str:
    # Each use has its own first part, so that a seal made for one thing (an entry) can never
    # be passed off as another (the tail, a checkpoint).
    message = "\x00".join("" if part is None else str(part) for part in parts)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def seal_entry(key: bytes, seq: int, entry_hash: str) -> str:
    """The entry's hash covers its content and its predecessor, so sealing the hash seals both."""
    return _mac(key, "zhiban.audit.entry", seq, entry_hash)


def seal_tail(key: bytes, seq: int, entry_hash: str) -> str:
    return _mac(key, "zhiban.audit.tail", seq, entry_hash)


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a, b)


# -- checkpoints ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    """The chain head at one moment, signed: `seq` entries, the last one's hash `head`."""

    seq: int
    head: str
    at: datetime
    sealed_from: int | None
    hmac: str

    @staticmethod
    def _signature(key: bytes, seq: int, head: str, at: datetime, sealed_from: int | None) -> str:
        moment = at.astimezone(UTC).isoformat(timespec="microseconds")
        return _mac(key, "zhiban.audit.checkpoint", seq, head, moment, sealed_from)

    @classmethod
    def sign(cls, key: bytes, *, seq: int, head: str, at: datetime, sealed_from: int | None) -> Checkpoint:
        return cls(seq, head, at, sealed_from, cls._signature(key, seq, head, at, sealed_from))

    def genuine(self, key: bytes) -> bool:
        return same(self.hmac, self._signature(key, self.seq, self.head, self.at, self.sealed_from))

    def to_json(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "head": self.head,
                "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
                "sealed_from": self.sealed_from,
                "hmac": self.hmac,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        sealed_from = data["sealed_from"]
        return cls(
            seq=int(data["seq"]),
            head=str(data["head"]),
            at=datetime.fromisoformat(data["at"]),
            sealed_from=None if sealed_from is None else int(sealed_from),
            hmac=str(data["hmac"]),
        )


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line and make it durable before the caller commits (owner-only file)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=_PRIVATE_DIR_MODE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, _PRIVATE_FILE_MODE)
    with os.fdopen(fd, "a", encoding="utf-8") as file:
        file.write(checkpoint.to_json() + "\n")
        file.flush()
        os.fsync(file.fileno())


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file, in order; a line that is not one raises, naming the line."""
    found: list[Checkpoint] = []
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                found.append(Checkpoint.from_json(line))
            except (ValueError, KeyError, TypeError):
                raise CheckpointFileError(f"line {number} of {path} is not a checkpoint") from None
    return found


# -- what a process was given at start ---------------------------------------------------------
@dataclass(frozen=True)
class Anchors:
    """The key and where checkpoints go, as the settings say (set once per process)."""

    key: bytes
    checkpoint_file: Path | None = None
    room: str | None = None
    lang: str = "zh"


_installed: Anchors | None = None


def install(anchors: Anchors | None) -> None:
    """Give this process its key (None takes it away again, for tests)."""
    global _installed
    _installed = anchors


def installed() -> Anchors | None:
    return _installed
