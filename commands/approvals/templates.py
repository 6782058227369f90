"""Named approval flows from config (e.g. 发文: 拟稿 → 核稿 → 会签 → 签发 → 归档) turned into steps.

A template step names its people directly (`users`) and/or by role (`roles`, resolved from the
configured org chart). The requester is left out of every step, so that a leader
starting a 发文 is never asked to sign it off themselves; a step left with nobody is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from commands.approvals.chain import ALL, ANY, ChainError, StepSpec
from records.config import ApprovalTemplateStep


def template_names(templates: Mapping[str, Sequence[ApprovalTemplateStep]]) -> list[str]:
    return sorted(templates)


def steps_from_template(
    name: str,
    templates: Mapping[str, Sequence[ApprovalTemplateStep]],
    requester: str,
    people_with_role: Callable[[str], list[str]],
) -> list[StepSpec]:
    """The steps of template `name`; `people_with_role(role)` lists the configured holders."""
    if name not in templates:
        raise ChainError("approval.unknown_template", name=name[:40], names="、".join(template_names(templates)))
    steps: list[StepSpec] = []
    for step in templates[name]:
        if step.drafter:
            steps.append(StepSpec((), name=step.name, drafter=True))
            continue
        people = list(step.users)
        for role in step.roles:
            people.extend(people_with_role(role))
        people = [u for u in dict.fromkeys(people) if u != requester]
        if not people:
            raise ChainError("approval.template_nobody", template=name, step=step.name)
        mode = step.mode if step.mode in (ALL, ANY) else ANY
        steps.append(StepSpec(tuple(people), mode=mode, name=step.name))
    return steps
