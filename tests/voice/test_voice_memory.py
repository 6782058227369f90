"""The correction memory: what a correction teaches, and that what it learnt does no harm.

The pairs of tests/voice/data/dev_memory.tsv are what the development set teaches when every
transcript of it is corrected to its reference (written by ``bench.voice_memory --write-memory``):
real mishearings of the base model on Zhiban's own sentences. None comes from the shared set.
"""

from __future__ import annotations

from pathlib import Path

from tests.voice.test_voice_do_no_harm import GLOSSARY, ROSTER, SENTENCES
from voice.engine import Segment, Transcript
from voice.memory import CorrectionMemory, Pair, learn
from voice.pipeline import remember

DEV_MEMORY = Path(__file__).resolve().parent / "data" / "dev_memory.tsv"


def _dev_pairs() -> list[Pair]:
    rows = [line.split("\t") for line in DEV_MEMORY.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Pair(heard, right) for heard, right, _count in rows]


def test_a_correction_teaches_the_misheard_word_not_one_character() -> None:
    # One character alone (讯 -> 训) would rewrite every 讯 of the office: its neighbour comes along.
    assert learn("请大家参加陪讯", "请大家参加培训") == [Pair("陪讯", "培训")]
    # Two changes one character apart are one misheard phrase.
    assert learn("今天要报宋零抱告", "今天要报送零报告") == [Pair("宋零抱", "送零报")]


def test_a_short_span_takes_the_whole_word_it_would_cut() -> None:
    # 沙弯 would cut 白沙 in two where it was heard, so it could never apply there: 白沙弯 is learnt.
    assert learn("明早在白沙弯小学集合", "明早在白沙湾小学集合") == [Pair("白沙弯", "白沙湾")]


def test_a_short_span_is_never_replaced_across_a_word() -> None:
    memory = CorrectionMemory.of({"后请": "后勤", "们在": "们暂"})
    assert memory.apply("会后请把签名册交给我") == "会后请把签名册交给我"
    assert memory.apply("我们在青石桥村设了安置点") == "我们在青石桥村设了安置点"


def test_a_misheard_real_word_is_learnt_in_its_phrase() -> None:
    # 梅林 is a real word: replacing it everywhere would break it; with its neighbours it is safe.
    assert learn("请梅林隧道的值班员核实积水", "请梅岭隧道的值班员核实积水") == [Pair("请梅林隧", "请梅岭隧")]


def test_a_rewrite_or_punctuation_teaches_nothing() -> None:
    assert learn("今天下午开会", "明天上午请大家到三楼来一下") == []
    assert learn("今天下午开会", "今天下午开会。") == []
    assert learn("三点开会", "3点开会") == []


def test_a_protected_name_is_never_learnt_as_misheard() -> None:
    assert learn("请李建华到会", "请李建国到会", ["李建华"]) == []


def test_the_memory_replaces_the_longest_and_spares_names_and_context() -> None:
    memory = CorrectionMemory.of({"沙弯": "沙湾", "白沙弯小": "白沙湾小", "到港": "到岗"})
    assert memory.apply("明早在白沙弯小学集合") == "明早在白沙湾小学集合"
    # A roster name that contains the misheard span is left alone.
    assert memory.apply("请沙弯村的同志", ["沙弯村"]) == "请沙弯村的同志"
    # A real word its context makes likely: a ship arrives in port.
    assert memory.apply("货轮今晚到港") == "货轮今晚到港"
    assert memory.apply("值班员今晚到港") == "值班员今晚到岗"


def test_the_memory_runs_on_mandarin_segments_only() -> None:
    memory = CorrectionMemory.of({"白沙弯": "白沙湾"})
    zh = Transcript("白沙弯", "zh", 1.0, (Segment(0, 1, "白沙弯"),))
    en = Transcript("白沙弯", "en", 1.0, (Segment(0, 1, "白沙弯"),))
    assert remember(zh, memory, GLOSSARY).text == "白沙湾"
    assert remember(en, memory, GLOSSARY).text == "白沙弯"


def test_what_the_dev_set_teaches_never_changes_a_correct_sentence() -> None:
    pairs = _dev_pairs()
    assert len(pairs) >= 20  # a memory worth the name: the base model mishears plenty
    memory = CorrectionMemory(tuple(sorted(pairs, key=lambda p: -len(p.heard))))
    changed = {s: out for s in SENTENCES if (out := memory.apply(s, GLOSSARY.terms)) != s}
    assert changed == {}


def test_names_from_the_roster_survive_any_memory() -> None:
    # A memory that "corrects" parts of every roster name must not touch them.
    memory = CorrectionMemory.of({name[:2]: "某某" for name in ROSTER})
    for name in ROSTER:
        assert memory.apply(f"请{name}到会", GLOSSARY.terms) == f"请{name}到会"


def test_a_text_longer_than_any_voice_message_teaches_nothing() -> None:
    heard = "请到青石乔集合" + "的" * 2000
    assert learn(heard, heard.replace("青石乔", "青石桥")) == []


def test_a_remembered_mishearing_also_fixes_other_spellings_of_the_same_sound() -> None:
    # One voice wrote 线防指, another writes 现防纸 for the same 县防指: the pair learnt from the
    # first fixes the second, by its toneless pinyin.
    memory = CorrectionMemory.of({"线防指": "县防指"})
    assert memory.apply("明天上午现防纸开会", GLOSSARY.terms) == "明天上午县防指开会"
    assert memory.apply("线防指的通知收到了", GLOSSARY.terms) == "县防指的通知收到了"
    # Not where the same sound is a real word or cuts one (发现/防止), nor for two syllables.
    assert memory.apply("我们发现防止措施不够", GLOSSARY.terms) == "我们发现防止措施不够"
    two = CorrectionMemory.of({"向五": "下午"})
    assert two.apply("他项武下班后过来", GLOSSARY.terms) == "他项武下班后过来"


def test_a_sound_match_never_rewrites_a_word_the_sentence_really_says() -> None:
    # 县防止 -> 县防指 remembered: 县防治 holds the real word 防治, which the misheard spelling lacks.
    memory = CorrectionMemory.of({"县防止": "县防指", "十门镇": "石门镇", "西山坡": "溪山坡"})
    kept = [
        "县防治领导小组明天开会",
        "请把材料送到县防治中心",
        "市门镇发来了第二份报告",  # a town the roster lacks: name-shaped, never respelt
        "请喜山坡的村民先撤离",  # a place ending: the same sound, another place
    ]
    assert {s: out for s in kept if (out := memory.apply(s, GLOSSARY.terms)) != s} == {}
    assert memory.apply("明天上午现防纸开会", GLOSSARY.terms) == "明天上午县防指开会"


def test_a_sound_is_dropped_when_two_pairs_disagree_on_its_spelling() -> None:
    memory = CorrectionMemory.of([Pair("线防指", "县防指"), Pair("现防纸", "县防治")])
    assert memory.apply("明天上午限仿止开会", GLOSSARY.terms) == "明天上午限仿止开会"
    # Each exact pair still applies where it was heard.
    assert memory.apply("线防指的通知收到了", GLOSSARY.terms) == "县防指的通知收到了"


def test_a_pair_not_confirmed_by_several_people_fixes_only_its_own_spelling() -> None:
    memory = CorrectionMemory.of([Pair("线防指", "县防指", by_sound=False)])
    assert memory.apply("线防指的通知收到了", GLOSSARY.terms) == "县防指的通知收到了"
    assert memory.apply("明天上午现防纸开会", GLOSSARY.terms) == "明天上午现防纸开会"
