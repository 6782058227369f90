"""The slowest input we can find for each chat parser, against a target of 50 ms.

Every command's text is read by a parser on the bot's behalf, so the worst input anyone can
type decides how long the bot may be busy with one message. For each parser this searches,
up to the 8,000-character cap on a message:
  hostile   inputs built to hurt: huge counts, long repeats of what the grammars look for,
            long blank runs, long words without spaces, deep chains;
  random    texts from the same pieces, then a climb: the slowest so far is mutated
            (repeated, extended, spliced) and kept when it gets slower.
Each input is timed in CPU time of the parsing thread, as the median of a few runs (the
machine is shared: wall time would measure the neighbours), with the parser's
own limit (timeparse/budget.py) in force, as in the bot: an input stopped by the
limit shows as "too complex" and costs at most that limit.

    python -m bench.parsers [--seconds 4] [--seed 1]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from commands.approvals.chain import parse_chain
from commands.meetings.parsing import parse_action, parse_new_meeting
from commands.tasks.parsing import parse_new_task
from emergency.grammar import GrammarError, parse_report_fields, parse_span, split_people
from emergency.policy import parse_grade
from emergency.roster import parse_log_text, parse_roster_csv
from records.errors import DomainError
from timeparse import TimeParseError, get_zone, parse_when, split_recurrence, warm_up
from timeparse.workdays import add_working_days

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"
CAP = 8000
TARGET_MS = 50.0
EXPECTED = (TimeParseError, DomainError, GrammarError, ValueError)

PIECES = [
    "1", "3", "12", "2026", "9999", "999999999", "1" * 40, "1.5", "一", "三十", "两", "九千九百九十九", "二〇二六",
    "个工作日", "工作日", "天后", "小时后", "周", "月", "年", "日", "号", "点", "半", ":", "-", "/", "至", "到",
    "前", "内", "每", "每天", "每周一、三", "cron", "*", "明天", "下周五", "下午", "晚上", "下班前", "月底",
    "@a:x", "@lead:localhost", "@", ">", "|", "&", "in", "at", "by", "every", "day", "hours", "tomorrow",
    "next", "monday", "Dec", "December", "1st", "pm", "from", "now", "T7", "截止", "带班", "值班员", "leader",
    "officers", "地点:", "时间：", "来源:", "电话:", "已告知:", " ", "   ", "\n", ",", "，", "x", "会议", "材料",
]  # fmt: skip


def _fill(unit: str) -> str:
    return (unit * (CAP // max(1, len(unit)) + 1))[:CAP]


HOSTILE = [
    "200000个工作日内 交材料",
    "99999999个工作日内 交材料",
    "999999999天后 x",
    "9999年12月31日 8:00 至 9:00",
    _fill("T7"),
    _fill("明天x"),
    _fill("明天x "),
    _fill("7 "),
    _fill("1 "),
    _fill("a 1 "),
    _fill("Dec 1x "),
    _fill("1 December "),
    _fill("三十x"),
    _fill("x at "),
    _fill(" "),
    "明天" + " " * (CAP - 4) + "3点",
    _fill("1"),
    _fill("一"),
    _fill("@a:x > "),
    _fill("@a:x & "),
    _fill("@aaaa"),
    _fill("@"),
    _fill("地点"),
    _fill("地点: "),
    _fill("来源"),
    _fill("a"),
    _fill("至 "),
    _fill("1 to "),
    _fill("每"),
    _fill("every "),
    _fill("1d "),
    _fill("in 1 day and "),
    "cron " + _fill("1 ")[: CAP - 5],
    "3" + " " * (CAP - 10) + "x",
]


@dataclass
class Parser:
    name: str
    run: Callable[[str], object]


def _csv(text: str) -> object:
    return parse_roster_csv("date,start,end,leader,officers\n" + text, tz=TZ, default_server="x", today=NOW.date())


PARSERS = [
    Parser("timeparse.parse_when", lambda s: parse_when(s, now=NOW, tz=TZ)),
    Parser("timeparse.parse_when (past allowed)", lambda s: parse_when(s, now=NOW, tz=TZ, prefer_future=False)),
    Parser("timeparse.split_recurrence", lambda s: split_recurrence(s, now=NOW, tz=TZ)),
    Parser("timeparse.get_zone", lambda s: get_zone(s)),
    Parser("timeparse.add_working_days", lambda s: add_working_days(date(2026, 12, 3), len(s))),
    Parser("meetings.parse_new_meeting", lambda s: parse_new_meeting(s, now=NOW, tz=TZ)),
    Parser("meetings.parse_action", lambda s: parse_action(s, now=NOW, tz=TZ)),
    Parser("tasks.parse_new_task", lambda s: parse_new_task(s, now=NOW, tz=TZ)),
    Parser("tasks.parse_new_task (with a lead)", lambda s: parse_new_task("写报告 @lead:x 截止 " + s, now=NOW, tz=TZ)),
    Parser("approvals.parse_chain", parse_chain),
    Parser("emergency.split_people", split_people),
    Parser("emergency.parse_span", lambda s: parse_span(s, now=NOW, tz=TZ, shift_start="08:30")),
    Parser("emergency.parse_report_fields", parse_report_fields),
    Parser("emergency.parse_grade", parse_grade),
    Parser("emergency.parse_log_text", parse_log_text),
    Parser("emergency.parse_roster_csv", _csv),
]


def _once(parser: Parser, text: str) -> tuple[float, str]:
    # CPU time of this thread: what the parse costs, whatever else the (shared) machine runs.
    start = time.thread_time()
    outcome = "ok"
    try:
        parser.run(text)
    except EXPECTED as exc:
        outcome = getattr(exc, "key", type(exc).__name__)
    return (time.thread_time() - start) * 1000, outcome


def _timed(parser: Parser, text: str, runs: int = 3) -> tuple[float, str]:
    results = [_once(parser, text) for _ in range(runs)]
    return statistics.median(ms for ms, _ in results), results[-1][1]


def _random_text(rng: random.Random) -> str:
    parts = rng.choices(PIECES, k=rng.randint(1, 12))
    text = "".join(parts)
    if rng.random() < 0.5:
        text = text * rng.randint(1, CAP // max(1, len(text)))
    return text[:CAP]


def _mutate(text: str, rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.3:
        text = text * 2
    elif choice < 0.6:
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(PIECES) * rng.randint(1, 50) + text[at:]
    elif choice < 0.8:
        text = text + _random_text(rng)
    else:
        at = rng.randint(0, len(text))
        text = text[at:] + text[:at]
    return text[:CAP]


def search(parser: Parser, seconds: float, rng: random.Random) -> tuple[float, str, str]:
    """(slowest ms, its input, its outcome) for one parser."""
    worst = (0.0, "", "ok")
    for text in HOSTILE:
        ms, outcome = _timed(parser, text)
        if ms > worst[0]:
            worst = (ms, text, outcome)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = _mutate(worst[1], rng) if worst[1] and rng.random() < 0.5 else _random_text(rng)
        ms, outcome = _once(parser, text)
        if ms > worst[0]:
            ms, outcome = _timed(parser, text)  # confirm: one slow run may be the machine
            if ms > worst[0]:
                worst = (ms, text, outcome)
    return worst


def _show(text: str) -> str:
    shown = repr(text[:48]) + ("…" if len(text) > 48 else "")
    return f"{shown} ({len(text)} chars)"


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--seconds", type=float, default=4.0, help="random search per parser")
    arguments.add_argument("--seed", type=int, default=1)
    options = arguments.parse_args()
    logging.disable(logging.WARNING)  # years without holiday data log a warning each
    warm_up()
    rng = random.Random(options.seed)
    print(f"Chat parsers: the slowest input found (hostile + {options.seconds:g} s of random search each)")
    print(f"target < {TARGET_MS:.0f} ms of CPU per message of up to {CAP:,} characters\n")
    failed = 0
    for parser in PARSERS:
        ms, text, outcome = search(parser, options.seconds, rng)
        verdict = "PASS" if ms < TARGET_MS else "FAIL"
        failed += verdict == "FAIL"
        print(f"  {parser.name:38} {ms:8.1f} ms  {verdict}  [{outcome}] {_show(text)}", flush=True)
    print(f"\n{len(PARSERS) - failed}/{len(PARSERS)} parsers under {TARGET_MS:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
