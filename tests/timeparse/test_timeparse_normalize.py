"""The normalisation layer: Chinese numerals and full-width forms, with a map back to the original."""

from __future__ import annotations

import pytest

from timeparse.normalize import normalize


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("三天后", "3天后"),
        ("十分钟后", "10分钟后"),
        ("今晚八点半", "今晚8点半"),
        ("两个小时后", "2个小时后"),
        ("十一月三十日下午两点", "11月30日下午2点"),
        ("三点二十", "3点20"),  # minutes after 点 without 分
        ("三点一刻", "3点1刻"),
        ("二〇二六年十二月一日", "2026年12月1日"),
        ("１０：３０开会", "10:30开会"),
        # Weekday names stay words; only what follows them is a number.
        ("星期一", "星期一"),
        ("下周一上午九点", "下周一上午9点"),
        ("周五十点", "周五10点"),
        # Numerals that are not counts or clock values are left alone.
        ("一下", "一下"),
        ("一起开会", "一起开会"),
    ],
)
def test_normalize(text: str, normalized: str) -> None:
    assert normalize(text).text == normalized


def test_origin_maps_back_to_the_original_text() -> None:
    text = "明天下午三点二十分交材料"
    norm = normalize(text)
    end = norm.text.index("交")
    assert text[norm.original_end(end) :] == "交材料"
    assert norm.original_end(len(norm.text)) == len(text)
