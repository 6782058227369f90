"""`make bench`: every benchmark, one after another, each printing its figures.

(a)+(c) bench.roundtrip              command round trip vs a bare nio echo bot; bot memory
(b)     bench.dispatcher_throughput  events/s through routers and middlewares
        bench.exactly_once           the bot's real path (submit, ledger + outbox) on SQLite and PostgreSQL beside the raw drivers
        bench.push_fanout            Web Push fan-out vs pywebpush
        bench.push_production        Web Push through notify() and the workers over TLS; the sender beside pywebpush's async API
        bench.statements             SQL statements per action (decision, acknowledgement, RSVP, reminder), SQLite and PostgreSQL
        bench.voice_quality          transcription error rates, step by step
        bench.voice_english          English on real recordings (from registry packages): front ends side by side, WER, RSS
        bench.voice_memory           the correction memory learnt from half the dev set, on the other half
        bench.voice_nbest            n-best rescoring as production runs it, against the pipeline without it
        bench.voice_latency          voice message → transcript in its thread, through Synapse
        bench.voice_recording        a multi-minute recording: audio minutes per wall minute; resume after kill -9
        bench.timer_lateness         timer lateness with 100,000 pending; pump CPU at idle
        bench.timer_burst            1,000 and 10,000 timers due at once: the rq worker beside in process
        bench.incident_fanout        grade Ⅰ incident: 100 responders invited and DM-alerted
        bench.order_acks             200 responders acknowledge an order at once: acks/s, ack → card edit p95, statements per ack
        bench.approval_latency       approvals: leader's ✅ → card edit and requester's DM; decisions/s
        bench.parsers                the slowest input found for each chat parser (target < 50 ms)
        bench.recovery               bot takeover after kill -9; a timer's extra lateness when its job is lost
        bench.takeover               a standby bot takes over after kill -9 of the active one (target < lease + 5 s)
        bench.relay_recovery         homeserver back after an outage → the queued backlog delivered (target < 10 s)
        bench.backup                 zhiban backup / restore of a 100,000-record database, SQLite and PostgreSQL
        bench.board                  one person's board with 10,000 records of each kind, p95 vs SELECT 1 (target < 200 ms)
        bench.board_live             a commit → the change on 200 open boards (SSE), p95 (target < 1 s)
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    "bench.roundtrip",
    "bench.dispatcher_throughput",
    "bench.exactly_once",
    "bench.push_fanout",
    "bench.push_production",
    "bench.statements",
    "bench.voice_quality",
    "bench.voice_english",
    "bench.voice_memory",
    "bench.voice_nbest",
    "bench.voice_latency",
    "bench.voice_recording",
    "bench.timer_lateness",
    "bench.timer_burst",
    "bench.incident_fanout",
    "bench.order_acks",
    "bench.approval_latency",
    "bench.parsers",
    "bench.recovery",
    "bench.takeover",
    "bench.relay_recovery",
    "bench.backup",
    "bench.board",
    "bench.board_live",
]


def main() -> int:
    failed = []
    for module in BENCHMARKS if len(sys.argv) < 2 else sys.argv[1:]:
        print(f"\n=== {module} ===", flush=True)
        if subprocess.call([sys.executable, "-m", module]) != 0:
            failed.append(module)
    if failed:
        print("\nfailed to run: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
