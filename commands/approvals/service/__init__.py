"""What approvals change and look up, split along its seams:

- queries: names (A12, card and notice refs), rows, steps and lists; nothing changes;
- changes: start, decide, transfer (转交), add a signer (加签), return (退回), resubmit,
  withdraw (撤回), nudge (催办) — the rules, each change locked, audited, the card edited;
- document: the body, attachments and header fields the approval carries;
- engine: the step engine the changes drive (whose turn, the next step, the DMs, the card,
  the reminder timer).

Callers use this one name (`service.decide`), so that what it is made of can move.
"""

from commands.approvals.models import Step
from commands.approvals.service.changes import (
    MAX_TEXT,
    MAX_TITLE,
    ConfirmationNeeded,
    Outcome,
    add_signer,
    check_turn,
    decide,
    nudge,
    resubmit,
    return_step,
    start_approval,
    transfer,
    withdraw,
)
from commands.approvals.service.document import HEADER_FIELDS, add_attachment, append_body, set_header
from commands.approvals.service.engine import REMIND, card_message, card_names, fire_reminder, refresh_card
from commands.approvals.service.queries import (
    active_step,
    card_ref,
    get_approval,
    history,
    load_steps,
    notice_ref,
    parse_code,
    parse_ref,
    started_by,
    waiting_for,
)

__all__ = [
    "HEADER_FIELDS",
    "MAX_TEXT",
    "MAX_TITLE",
    "REMIND",
    "ConfirmationNeeded",
    "Outcome",
    "Step",
    "active_step",
    "add_attachment",
    "add_signer",
    "append_body",
    "card_message",
    "card_names",
    "card_ref",
    "check_turn",
    "decide",
    "fire_reminder",
    "get_approval",
    "history",
    "load_steps",
    "notice_ref",
    "nudge",
    "parse_code",
    "parse_ref",
    "refresh_card",
    "resubmit",
    "return_step",
    "set_header",
    "start_approval",
    "started_by",
    "transfer",
    "waiting_for",
    "withdraw",
]
