"""The audit trail's checkpoints: signed daily, kept in a file and posted to the audit room."""
