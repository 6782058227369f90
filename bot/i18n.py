"""Translations: every text a user reads exists in zh (the default) and en.

Each package keeps its texts as {"key": {"zh": "...", "en": "..."}} and adds them to one
catalog. A missing language falls back to zh; a missing key is a programming error. A text
with a `count` may add its singular, {"en": "{count} people", "en_one": "1 person"}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

LANGS = ("zh", "en")
#: The suffix of a language's singular form of a counted text ("en_one"), see Catalog.t.
ONE = "_one"
DEFAULT_LANG = "zh"

Texts = Mapping[str, Mapping[str, str]]


class Translator(Protocol):
    """What a handler calls to say something in its user's language: `t("key", name=...)`."""

    def __call__(self, key: str, /, **params: Any) -> str: ...


def translator(catalog: Catalog, lang: str | None) -> Translator:
    """The catalog's texts in one language, as a handler's `t`."""

    def t(key: str, /, **params: Any) -> str:
        return catalog.t(key, lang, **params)

    return t


class Catalog:
    def __init__(self, *texts: Texts, default_lang: str = DEFAULT_LANG) -> None:
        self.default_lang = default_lang
        self._texts: dict[str, Mapping[str, str]] = {}
        for block in texts:
            self.add(block)

    def add(self, texts: Texts) -> None:
        for key, variants in texts.items():
            missing = [lang for lang in LANGS if lang not in variants]
            if missing:
                raise ValueError(f"text {key!r} lacks {missing}")
            self._texts[key] = variants

    def __contains__(self, key: str) -> bool:
        return key in self._texts

    def t(self, key: str, lang: str | None = None, /, **params: Any) -> str:
        variants = self._texts[key]
        chosen = lang or self.default_lang
        if not variants.get(chosen):
            chosen = self.default_lang
        template = variants[chosen]
        # English says "1 person" but "2 people": a text may carry the singular as "<lang>_one",
        # used when its `count` is 1 (Chinese needs none: "1 人", "3 人").
        if params.get("count") == 1:
            template = variants.get(chosen + ONE) or template
        return template.format(**params) if params else template


def normalize_lang(value: str | None) -> str | None:
    """Map what users type (中文, zh-CN, English, en_US…) to a supported language."""
    if not value:
        return None
    v = value.strip().lower().replace("_", "-")
    if v in ("zh", "zh-cn", "zh-hans", "cn", "中文", "汉语", "简体中文", "chinese"):
        return "zh"
    if v in ("en", "en-us", "en-gb", "english", "英文", "英语"):
        return "en"
    return None
