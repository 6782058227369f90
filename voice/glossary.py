"""The office's vocabulary: biases Whisper (hotwords/prompt) and anchors the homophone fixer.

The shipped list covers duty, document-flow and emergency words of a General Office. Deployments
add their own via config (``extra_terms``), and the worker adds people's and places' names from
the roster at call time, because names are exactly what a generic model gets wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: Shipped office & emergency terms (Simplified Chinese). Grouped only for readability.
DEFAULT_TERMS: tuple[str, ...] = (
    # duty (值班)
    "值班", "带班领导", "值班员", "值班室", "交接班", "到岗", "在岗", "离岗", "脱岗", "补岗",
    "坚守岗位", "留守值班", "领班", "值守", "双岗", "查岗",
    # reporting (报送)
    "首报", "续报", "终报", "快报", "专报", "报送", "上报", "信息报送", "零报告", "迟报",
    "漏报", "瞒报", "核报", "续报信息",
    # document flow (公文)
    "督办", "会签", "签发", "办结", "转交", "驳回", "批示", "批复", "呈批", "审批", "审核",
    "退办", "延期", "拟办", "阅知", "阅示", "传阅", "公文", "发文", "收文", "落实", "反馈",
    "指令", "通知", "通报", "请示", "纪要", "会议纪要", "议题", "签收", "回执",
    # emergency (应急)
    "应急响应", "应急预案", "预案", "防汛", "防汛抗旱", "防台", "抗旱", "台风", "暴雨",
    "暴雨预警", "预警", "红色预警", "橙色预警", "黄色预警", "蓝色预警", "山洪", "泥石流",
    "山体滑坡", "滑坡", "塌方", "落石", "内涝", "洪峰", "水位", "汛情", "险情", "灾情", "火情",
    "疏散", "转移安置", "安置点", "撤离", "物资", "储备物资", "抢险", "抢修", "救援",
    "搜救", "研判", "会商", "调度", "处置", "启动", "响应", "一级响应", "二级响应",
    "三级响应", "四级响应", "伤亡", "失联", "受灾", "停电", "停水", "断路", "封路",
    "森林防火", "消防", "危化品", "安全生产", "隐患排查", "地质灾害", "气象", "应急管理局",
    "指挥部", "现场指挥", "指挥长", "卫星电话", "应急通信",
)  # fmt: skip


@dataclass(frozen=True)
class Glossary:
    """An ordered, de-duplicated term list (longer, more specific terms first)."""

    terms: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def build(cls, *sources: Iterable[str], include_defaults: bool = True) -> Glossary:
        """Merge the shipped list, config lists and call-time names (people, places)."""
        seen: dict[str, None] = {}
        for source in ((DEFAULT_TERMS,) if include_defaults else ()) + sources:
            for term in source:
                cleaned = term.strip()
                if cleaned:
                    seen.setdefault(cleaned, None)
        return cls(tuple(seen))

    def extended(self, *sources: Iterable[str]) -> Glossary:
        """A copy with more terms (e.g. the names of the people in this room)."""
        return Glossary.build(self.terms, *sources, include_defaults=False)

    def without(self, removed: Iterable[str]) -> Glossary:
        """A copy without the terms an office removed (``!词表 删``)."""
        gone = frozenset(removed)
        return Glossary(tuple(t for t in self.terms if t not in gone)) if gone else self

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.terms)

    def hotwords(self, limit: int = 40, priority: Iterable[str] = ()) -> str:
        """A short space-separated list for faster-whisper's ``hotwords``.

        Whisper's prompt window is 224 tokens and every Chinese character costs one or two, so we
        pass the call-time names first (they matter most in this message), then shipped terms.
        """
        ordered = list(dict.fromkeys([*priority, *self.terms]))
        return " ".join(ordered[:limit])

    def prompt(self, limit: int = 40, priority: Iterable[str] = ()) -> str:
        """An ``initial_prompt``: a Simplified-Chinese sentence also nudges the output to Simplified."""
        return names_prompt([*priority, *self.terms], limit)


DEFAULT_GLOSSARY = Glossary.build()


def names_prompt(names: Iterable[str], limit: int = 40) -> str:
    """An ``initial_prompt`` of just the names in play: a Simplified-Chinese sentence that makes
    Whisper spell them as the office does (王建国, not 王健国)."""
    return "以下是普通话的句子，使用简体中文和标点。" + "、".join(list(dict.fromkeys(names))[:limit]) + "。"
