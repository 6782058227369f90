"""Whole recordings, the decoding side: a video's audio track, chunks cut in pauses, paragraphs
led by timestamps, and the length cap (voice.recording; no model needed)."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest

from bench.voice_recording import make_recording
from voice.decode import AudioTooLong, ffmpeg_exe
from voice.recording import CHUNK_SECONDS, decode_to, paragraphs, plan_chunks, seconds_of, stamp


@pytest.fixture(scope="module")
def wav() -> tuple[bytes, float]:
    data, seconds, _ = make_recording(9)
    return data, seconds


def _as_video(wav: bytes, folder: Path) -> bytes:
    """An MP4 with a video track and the recording as its audio track, as a phone films a meeting."""
    source, video = folder / "in.wav", folder / "meeting.mp4"
    source.write_bytes(wav)
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=160x120:r=5",
         "-i", str(source), "-shortest", "-c:v", "mpeg4", "-c:a", "aac", str(video)],
        check=True, timeout=120,
    )  # fmt: skip
    return video.read_bytes()


def test_a_video_is_decoded_from_its_audio_track_and_cut_in_pauses(wav: tuple[bytes, float], tmp_path: Path) -> None:
    data, seconds = wav
    samples = decode_to(tmp_path, _as_video(data, tmp_path), max_bytes=50_000_000, max_seconds=600)
    assert abs(seconds_of(samples) - seconds) < 0.5
    chunks = plan_chunks(samples)
    assert len(chunks) >= 3
    assert all(0 < c.end - c.start <= CHUNK_SECONDS for c in chunks)
    assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))  # in order, no overlap
    assert plan_chunks(samples) == chunks  # a resumed run finds the same plan


def test_a_recording_over_the_length_cap_is_refused(wav: tuple[bytes, float], tmp_path: Path) -> None:
    with pytest.raises(AudioTooLong):
        decode_to(tmp_path, wav[0], max_bytes=50_000_000, max_seconds=20)


def test_paragraphs_start_at_pauses_each_with_its_timestamp() -> None:
    segments = [(1.0, 4.0, "各位好"), (4.2, 9.0, "现在开会"), (12.5, 15.0, "先说汛情"), (3725.0, 3730.0, "散会")]
    assert paragraphs(segments) == ["[00:00:01] 各位好，现在开会", "[00:00:12] 先说汛情", "[01:02:05] 散会"]
    assert stamp(45296.9) == "[12:34:56]"
