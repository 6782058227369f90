"""How the audit checkpoints read in the audit room."""

from __future__ import annotations

from commands.audit.texts import tr
from records import audit, outbox
from records.audit_seal import Checkpoint


def checkpoint_notice(lang: str, checkpoint: Checkpoint) -> dict[str, object]:
    at = f"{checkpoint.at:%Y-%m-%d %H:%M:%S} UTC"
    body = tr("audit.checkpoint", lang, seq=checkpoint.seq, at=at, head=checkpoint.head, hmac=checkpoint.hmac)
    content = outbox.text_content(body, msgtype="m.notice")
    # The signed fields as data too, so that the room's copy can be checked by a program.
    content["zhiban.audit_checkpoint"] = {
        "seq": checkpoint.seq,
        "head": checkpoint.head,
        "at": checkpoint.at.isoformat(timespec="microseconds"),
        "sealed_from": checkpoint.sealed_from,
        "hmac": checkpoint.hmac,
    }
    return content


def broken_notice(lang: str, broken: audit.TrailBroken) -> dict[str, object]:
    body = tr("audit.broken", lang, seq=broken.at if broken.at is not None else "?", reason=broken.reason)
    return outbox.text_content(body, msgtype="m.notice")
