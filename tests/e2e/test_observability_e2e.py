"""Observability of real processes: the bot's and the worker's /metrics, JSON logs in domain
words (never a message's text), and the push server's access log."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser
from zhiban.config_file import write_config

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def scrape(port: int) -> Samples:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    response.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, got), v in samples.items() if n == name and wanted <= got)


async def scrape_until(port: int, ready: Callable[[Samples], bool], *, tries: int = 300) -> Samples:
    """Scrape until `ready` holds (the figure is recorded just after the reply is committed)."""
    samples: Samples = {}
    for _ in range(tries):
        try:
            samples = await scrape(port)
        except httpx.HTTPError:
            samples = {}  # not listening yet
        if ready(samples):
            return samples
        await asyncio.sleep(0.2)
    return samples


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the log, each of which must be one JSON object."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"not a JSON log line: {line!r}") from None
    return entries


def spawn(args: list[str], config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "zhiban.cli", *args, "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ZHIBAN_CONFIG": str(config)},
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


async def test_a_bot_process_counts_and_logs_a_command_by_feature(make_bot: MakeBot, make_user: MakeUser) -> None:
    port = free_port()
    bot = await make_bot(start=False, e2ee=False, metrics={"bot_port": port}, logging={"format": "json"})
    bot.spawn()
    log = bot.config_path.parent / "bot-process.log"
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id, timeout=120)
    mark = alice.mark()
    await alice.send_text(room, "!remind room in 2 hours 核对一号仓库的密码本")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已设提醒", since=mark, timeout=60)

    samples = await scrape_until(
        port, lambda s: value(s, "zhiban_events_handled_total", feature="tasks", outcome="ok") >= 1
    )
    assert value(samples, "zhiban_events_handled_total", feature="tasks", event="message", outcome="ok") >= 1
    assert value(samples, "zhiban_handler_seconds_count", feature="tasks") >= 1
    assert value(samples, "zhiban_handler_seconds_sum", feature="tasks") > 0
    samples = await scrape_until(port, lambda s: value(s, "zhiban_outbox_sent_total", kind="message") >= 1)
    assert value(samples, "zhiban_outbox_sent_total", kind="message") >= 1
    assert ("zhiban_outbox_backlog", frozenset()) in samples
    assert ("zhiban_outbox_oldest_unsent_seconds", frozenset()) in samples
    bot.terminate()

    entries = json_lines(log)
    handled = [e for e in entries if e.get("feature") == "tasks" and e.get("command") == "remind"]
    assert handled, "no log line says the remind command was handled"
    assert handled[0]["sender"] == alice.user_id
    assert handled[0]["room"] == room
    assert handled[0]["outcome"] == "ok"
    assert any(e.get("outbox_row") and e.get("kind") == "message" and e.get("room") == room for e in entries)
    text = log.read_text(encoding="utf-8")
    assert "密码本" not in text, "a message's text reached the log"


async def test_a_worker_process_counts_the_timer_it_ran(make_bot: MakeBot, make_user: MakeUser, tmp_path: Path) -> None:
    port = free_port()
    # Voice off: a worker stopped while it preloads the speech model may die in native code, whose
    # last words ("terminate called…") are no log line of ours.
    bot = await make_bot(
        e2ee=False, metrics={"worker_port": port}, logging={"format": "json"}, voice={"enabled": False}
    )
    log = tmp_path / "worker.log"
    worker = spawn(["worker"], bot.config_path, log)
    try:
        alice = await make_user("alice")
        room = await alice.create_room(invite=[bot.user_id])
        await alice.wait_for_member(room, bot.user_id)
        mark = alice.mark()
        await alice.send_text(room, "!remind room in 2 seconds 给值班室送保密文件")
        await alice.wait_for_message(room, sender=bot.user_id, contains="⏰ 提醒", since=mark, timeout=60)

        samples = await scrape_until(
            port, lambda s: value(s, "zhiban_timers_fired_total", kind="reminder.fire", outcome="done") >= 1
        )
        assert value(samples, "zhiban_timers_fired_total", kind="reminder.fire", outcome="done") >= 1
        assert value(samples, "zhiban_timer_lateness_seconds_count", kind="reminder.fire") >= 1
        assert value(samples, "zhiban_timer_run_seconds_count", kind="reminder.fire") >= 1
        assert value(samples, "zhiban_job_seconds_count", job="fire_timers") >= 1
        assert value(samples, "zhiban_timers_claimed_total") >= 1
        assert ("zhiban_timers_overdue", frozenset()) in samples
    finally:
        stop(worker)

    entries = json_lines(log)
    fired = [e for e in entries if e.get("kind") == "reminder.fire" and e.get("outcome") == "done"]
    assert fired, "no log line says which reminder fired"
    assert isinstance(fired[0]["timer_id"], int) and isinstance(fired[0]["reminder_id"], int)
    assert fired[0]["lateness_seconds"] >= 0
    assert "保密文件" not in log.read_text(encoding="utf-8"), "a message's text reached the log"
    # The timer handlers are loaded before the worker takes jobs: lazily, the first job paid the
    # imports (~4 s) and its timer ran that much late.
    messages = [str(e.get("message", "")) for e in entries]
    ready = next(i for i, m in enumerate(messages) if m.startswith("jobs ready"))
    listening = next(i for i, m in enumerate(messages) if "Listening on" in m)
    assert ready < listening


async def test_the_server_logs_each_request_without_sign_in_secrets(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "zhiban.toml"
    write_config(
        config,
        {
            "data_dir": str(tmp_path / "data"),
            "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
            "logging": {"format": "json"},
        },
    )
    log = tmp_path / "server.log"
    server = spawn(["server"], config, log)
    secret = "k3Xq9SecretLinkToken"
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(600):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, log.read_text()
                await asyncio.sleep(0.1)
            await client.get(f"/push/signin/{secret}?next=x")

        def access(path: str) -> list[dict[str, Any]]:
            return [e for e in json_lines(log) if e.get("logger") == "uvicorn.access" and e.get("path") == path]

        for _ in range(100):  # the line is written just after the answer
            if access("/push/signin/…"):
                break
            await asyncio.sleep(0.1)
    finally:
        stop(server)
    healthz = access("/healthz")
    assert healthz and healthz[-1]["status"] == 200 and healthz[-1]["method"] == "GET"
    assert access("/push/signin/…"), "the sign-in request has no access line"
    assert secret not in log.read_text(encoding="utf-8"), "a sign-in link's secret reached the log"
