"""The voice feature files transcripts with the filers the other features contribute."""

from __future__ import annotations

from zhiban.features import FEATURES, VOICE_FILERS


def test_tasks_meetings_and_emergency_each_contribute_their_voice_filer() -> None:
    contributed = {feature.name: [f.file.__name__ for f in feature.voice_filers] for feature in FEATURES}
    assert contributed["tasks"] == ["file_to_task"]
    assert contributed["meetings"] == ["file_to_minutes"]
    assert contributed["emergency"] == ["file_to_incident"]
    assert contributed["voice"] == []  # voice knows no one's records


def test_minutes_and_an_incident_are_tried_before_a_task_card() -> None:
    # In an incident room a voice reply to a task card joins the incident's timeline.
    order = [f.file.__name__ for f in sorted(VOICE_FILERS, key=lambda f: f.rank)]
    assert order == ["file_to_minutes", "file_to_incident", "file_to_task"]
