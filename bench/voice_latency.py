"""Voice message → transcript in its thread, through a real Synapse: latency and real-time factor.

A person sends the short messages of the shared voice set as Element-style voice messages, plus
~10-second messages made by joining two of its Mandarin clips (the set has none of that length);
the bot (in this process) queues them; an in-process worker loop (the timer pump every 50 ms, then
the real Whisper model) transcribes them; we time from just before the upload to the threaded
transcript arriving at the sender's client. Target: within 3 s for a 10-second message.
Also printed: the real-time factor of the worker's job (transcription time / audio length) and
this process's RSS (bot + worker + client together: an upper bound for the worker alone).
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from records.clock import SystemClock
from records.config import load_settings
from records.db import Database
from records.timers import TimerPump, run_timer
from tests.support.chat_user import ChatUser, Received
from zhiban.app import build_timers
from zhiban.bot_runner import BotRuntime
from zhiban.config_file import write_config
from zhiban.local.homeserver import LocalHomeserver

VOICE = Path(__file__).resolve().parents[2] / "shared" / "voice"
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
job_seconds: list[float] = []


def _joined_messages(files: list[Path], seconds: float = 10.0) -> dict[str, bytes]:
    """Ogg/Opus voice messages of about ``seconds``: consecutive Mandarin clips joined with a
    short pause, encoded the way a phone sends them (16 kHz mono Opus, 16 kb/s)."""
    import subprocess

    import numpy as np

    from voice.decode import SAMPLE_RATE, decode_audio, ffmpeg_exe

    clips = [decode_audio(p.read_bytes()) for p in files if p.name.startswith("zh_tts")]
    pause = np.zeros(SAMPLE_RATE * 3 // 10, dtype=np.float32)
    messages: dict[str, bytes] = {}
    current: list[np.ndarray] = []
    for clip in clips:
        current += [clip, pause]
        if sum(len(c) for c in current) >= seconds * SAMPLE_RATE:
            pcm = (np.clip(np.concatenate(current), -1, 1) * 32767).astype("<i2").tobytes()
            command = [ffmpeg_exe(), "-loglevel", "error", "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1"]
            command += ["-i", "pipe:0", "-c:a", "libopus", "-b:a", "16k", "-application", "voip", "-f", "ogg", "pipe:1"]
            out = subprocess.run(command, input=pcm, capture_output=True, check=True)
            messages[f"joined_{len(messages) + 1}.ogg"] = out.stdout
            current = []
    return messages


def _threaded_answer(event_id: str, bot: str):  # type: ignore[no-untyped-def]
    def match(item: Received) -> bool:
        rel: dict[str, Any] = item.content.get("m.relates_to") or {}
        return item.sender == bot and item.type == "m.room.message" and rel.get("event_id") == event_id

    return match


def _reaction(event_id: str, bot: str):  # type: ignore[no-untyped-def]
    def match(item: Received) -> bool:
        rel: dict[str, Any] = item.content.get("m.relates_to") or {}
        return item.sender == bot and item.type == "m.reaction" and rel.get("event_id") == event_id

    return match


async def main_async() -> int:
    import commands.voice.jobs as jobs
    from voice.decode import decode_audio, duration_of

    root = Path(tempfile.mkdtemp(prefix="zhiban-voice-bench-"))
    hs = LocalHomeserver(root / "synapse")
    hs.prepare()
    await hs.start()
    runtime: BotRuntime | None = None
    try:
        pw = secrets.token_urlsafe(10)
        bot_user = await hs.register("zhiban", pw)
        config = root / "zhiban.toml"
        write_config(
            config,
            {
                "data_dir": str(root / "data"),
                "matrix": {"homeserver": hs.base_url, "user_id": bot_user, "password": pw, "e2ee": False},
            },
        )
        settings = load_settings(config)
        runtime = BotRuntime(settings)
        bot_task = asyncio.create_task(runtime.run())
        while runtime.client is None or not runtime.client.synced.is_set():
            if bot_task.done():
                bot_task.result()
            await asyncio.sleep(0.05)

        db = Database(settings.database_url)
        registry = build_timers(settings)
        original = registry.get_io("voice.transcribe")
        assert original is not None

        async def timed(database: Any, timer: Any, clock: Any) -> Any:
            start = time.perf_counter()
            try:
                return await original(database, timer, clock)
            finally:
                job_seconds.append(time.perf_counter() - start)

        registry.register_io("voice.transcribe")(timed)

        async def run(timer_id: int) -> None:
            await run_timer(db, timer_id, registry, SystemClock())
            if runtime is not None and runtime.relay is not None:
                runtime.relay.wake()

        pump = TimerPump(db, SystemClock(), run, interval=0.05)
        pump_task = asyncio.create_task(pump.run())
        jobs.use_transcriber(None)

        alice = await ChatUser.create(hs, f"alice-{secrets.token_hex(3)}", e2e=False, store_dir=None, auto_join=True)
        await alice.start()
        room = await alice.create_room(invite=[bot_user])
        await alice.wait_for_member(room, bot_user)

        short = sorted(p for p in VOICE.glob("*.ogg") if "long" not in p.name)
        messages = {p.name: p.read_bytes() for p in short} | _joined_messages(short)
        lengths = {name: duration_of(decode_audio(data)) for name, data in messages.items()}
        first = next(iter(messages))
        # Warm-up: the first job loads the model (once per worker process).
        warm = await alice.send_voice(room, messages[first], int(lengths[first] * 1000))
        await alice.wait_for(_threaded_answer(warm, bot_user), timeout=120)
        job_seconds.clear()

        latencies: list[tuple[str, float, float]] = []
        acked: list[float] = []
        for _ in range(ROUNDS):
            for name, data in messages.items():
                mark = alice.mark()
                start = time.perf_counter()
                event = await alice.send_voice(room, data, int(lengths[name] * 1000))
                sent = time.perf_counter()
                await alice.wait_for(_reaction(event, bot_user), since=mark, timeout=120)
                acked.append(time.perf_counter() - sent)
                await alice.wait_for(_threaded_answer(event, bot_user), since=mark, timeout=120)
                latencies.append((name, lengths[name], time.perf_counter() - start))
        pump.stop()
        await pump_task
        await alice.stop()
        await db.dispose()

        print(f"{'file':28} {'audio s':>8} {'p50 send→thread s':>18}")
        for name in messages:
            mine = [lat for sent_name, _, lat in latencies if sent_name == name]
            print(f"{name:28} {lengths[name]:8.1f} {statistics.median(mine):18.2f}")
        all_lat = [lat for name, _, lat in latencies if not name.startswith("joined")]
        audio_total = sum(length for _, length, _ in latencies)
        print(f"\nshort messages: n={len(all_lat)}, p50 {statistics.median(all_lat):.2f} s, max {max(all_lat):.2f} s")
        print(f"⏳ seen by the sender: p50 {statistics.median(acked):.2f} s after the send returned")
        print(f"worker job: p50 {statistics.median(job_seconds):.2f} s")
        ten = [lat for _, length, lat in latencies if 8 <= length <= 13]
        if ten:
            print(f"~10 s messages: p50 {statistics.median(ten):.2f} s (target ≤ 3 s)")
        print(f"worker job real-time factor: {sum(job_seconds) / audio_total:.3f} (job time / audio length)")
        rss = psutil.Process().memory_info().rss / 1_048_576
        print(f"RSS of bot + worker + client in one process: {rss:.0f} MB (worker target < 700 MB)")
        return 0
    finally:
        if runtime is not None:
            runtime.stop()
        await hs.stop()


def main() -> int:
    if not VOICE.is_dir():
        print(f"voice set not found at {VOICE}")
        return 1
    return asyncio.run(main_async())


if __name__ == "__main__":
    sys.exit(main())
