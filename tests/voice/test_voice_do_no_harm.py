"""Do no harm: correct office Mandarin comes through every correction pass exactly as it was said.

A correction that breaks a right word costs more trust than it gains. The sentences were written
for Zhiban (tests/voice/data, and the development set's references); none comes from the shared
voice set. One file of them (unknown_words_sentences.txt) is full of words no lexicon holds:
people with rare surnames, invented places, local abbreviations and jargon. Several are traps: real words that sound like an office term (到港, 既要, 事实), two
correct single characters that sound like a more frequent word (再核, 条河), numbers next to
measure words (三十份), and names from the roster.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from voice.engine import Segment, Transcript
from voice.glossary import DEFAULT_GLOSSARY
from voice.postprocess import finalize, postprocess

ROOT = Path(__file__).resolve().parents[2]
#: The roster and places of the sentences: names the passes must never respell.
ROSTER = (
    "李建华", "张晓东", "周敏", "赵刚", "刘洋", "陈静", "孙丽", "王建国", "黄海峰", "郑晓燕",
    "吴志强", "何振华", "青石桥村", "龙泉街道", "白沙湾小学", "梅岭隧道",
)  # fmt: skip
#: Words of tests/voice/data/unknown_words_sentences.txt that no lexicon holds (not the glossary,
#: not the roster above, not jieba's dictionary): the passes must leave them as they are said.
#: The development set's flood-season county (县防指, 覃所长, 岚江, 巡堤查险) is not in the roster
#: either, for the same reason.
UNKNOWN = (
    "覃主任", "祁科长", "蔺小川", "郦副局长", "樟坪乡", "阙秘书长", "鄢处长", "雁栖沟", "亓站长", "黄泥塘",
    "笪科员", "訾主任", "宓股长", "仉所长", "棠梨湾", "市应急办", "区防办", "县减灾委", "镇综治办", "县网信办",
    "枫杨渡", "翟晓岚", "桦皮岭", "冼国栋", "符佳慧", "单于明", "邬振宇", "禹城乡", "蒲家寨",
    "鹭洲社区", "巡河员", "防溺水", "河长制", "夜查", "包保", "民情日志", "防返贫",
    "县防指", "覃所长", "祁镇长", "蔺队长", "石门渡", "柳溪镇", "岚江", "鹤鸣山", "巡堤查险",
)  # fmt: skip
GLOSSARY = DEFAULT_GLOSSARY.extended(ROSTER)


def _lines(name: str) -> list[str]:
    lines = (ROOT / "tests/voice/data" / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _sentences() -> list[str]:
    found = _lines("clean_office_sentences.txt") + _lines("unknown_words_sentences.txt")
    found += [s for s in (ROOT / "bench/voice_dev/sentences.txt").read_text(encoding="utf-8").splitlines() if s]
    found += [
        row.split("\t")[2]
        for row in (ROOT / "bench/voice_dev/refs.tsv").read_text(encoding="utf-8").splitlines()
        if row
    ]
    return list(dict.fromkeys(found))


SENTENCES = _sentences()
#: Each pass alone, then all of them: a pass that breaks text must be named by the failure.
PASSES = {
    "glossary": {"lexicon": False},
    "rescore": {"homophones": False},
    "all": {},
}


def test_the_suite_is_large_enough() -> None:
    assert len(SENTENCES) >= 300


def test_the_unknown_words_are_unknown_to_every_lexicon() -> None:
    # Otherwise the suite would pass because a lexicon knows them, not because the passes leave
    # words they do not know alone.
    from voice.lexicon import word_frequency

    assert len(_lines("unknown_words_sentences.txt")) >= 100
    assert [w for w in UNKNOWN if w in GLOSSARY.terms or word_frequency(w) or any(w in n for n in ROSTER)] == []
    assert all(any(w in s for s in SENTENCES) for w in UNKNOWN)


@pytest.mark.parametrize("name", PASSES)
def test_no_pass_changes_a_correct_sentence(name: str) -> None:
    changed = {s: out for s in SENTENCES if (out := postprocess(s, GLOSSARY, **PASSES[name])) != s}
    assert changed == {}


def test_the_production_path_keeps_correct_segments() -> None:
    segments = tuple(Segment(i, i + 1.0, s, avg_logprob=-0.2, no_speech_prob=0.05) for i, s in enumerate(SENTENCES))
    done = finalize(Transcript("".join(SENTENCES), "zh", float(len(SENTENCES)), segments), GLOSSARY)
    assert [s.text for s in done.segments] == SENTENCES


def test_taiwan_spelling_becomes_mainland_usage() -> None:
    assert postprocess("請把昨天的會議紀錄發給我") == "请把昨天的会议记录发给我"
    assert postprocess("值班紀錄要寫清楚") == "值班记录要写清楚"
    assert postprocess("這次降雨創紀錄") == "这次降雨创纪录"  # a record broken stays 纪录


def test_a_ship_arrives_in_port_but_a_person_reports_for_duty() -> None:
    assert postprocess("货轮今晚到港") == "货轮今晚到港"
    assert postprocess("请各位值班员今晚到港", GLOSSARY) == "请各位值班员今晚到岗"
