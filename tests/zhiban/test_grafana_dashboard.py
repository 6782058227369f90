"""The Grafana dashboard shows only figures our code exposes, and every one of them."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "zhiban-dashboard.json"
# Every module that defines a Prometheus metric, in the bot, the workers and the server.
METRIC_MODULES = (
    "zhiban.observe",
    "zhiban.relay",
    "zhiban.backlog",
    "zhiban.jobs",
    "records.timer_metrics",
    "commands.voice.jobs",
    "notifications.push_metrics",
    "server.gateway_routes",
)
NAME = re.compile(r"\bzhiban_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from expressions(item)


def exposed() -> dict[str, str]:
    """Sample name → family name, for every zhiban_ metric registered by our modules.

    Derived from each family's type: a labelled histogram with no observation yet has no samples.
    """
    for module in METRIC_MODULES:
        importlib.import_module(module)
    names: dict[str, str] = {}
    for family in REGISTRY.collect():
        if family.name.startswith("zhiban_"):
            for suffix in SUFFIXES.get(family.type, ("",)):
                names[family.name + suffix] = family.name
    return names


def test_every_metric_on_the_dashboard_is_one_our_code_exposes() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {name for expr in expressions(dashboard) for name in NAME.findall(expr)}
    assert used, "the dashboard has no zhiban_ expressions"
    unknown = used - set(exposed())
    assert not unknown, f"the dashboard queries metrics nobody exposes: {sorted(unknown)}"


def test_every_metric_our_code_exposes_is_on_the_dashboard() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {name for expr in expressions(dashboard) for name in NAME.findall(expr)}
    shown = {exposed()[name] for name in used if name in exposed()}
    missing = set(exposed().values()) - shown
    assert not missing, f"metrics missing from the dashboard: {sorted(missing)}"


def test_the_issue_figures_are_all_exposed() -> None:
    """Events by feature and outcome, latency, outbox backlog and age, relay failures, timers
    due/late/failed and lateness, job and transcription durations, push outcomes per service."""
    families = set(exposed().values())
    for name in (
        "zhiban_events_handled",
        "zhiban_handler_seconds",
        "zhiban_outbox_backlog",
        "zhiban_outbox_oldest_unsent_seconds",
        "zhiban_outbox_retries",
        "zhiban_outbox_failed",
        "zhiban_timers_overdue",
        "zhiban_timers_late",
        "zhiban_timers_fired",
        "zhiban_timer_lateness_seconds",
        "zhiban_job_seconds",
        "zhiban_transcription_seconds",
        "zhiban_push_outcomes",
    ):
        assert name in families, name
