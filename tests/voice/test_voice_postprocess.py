"""Simplified script, filler removal and glossary homophone correction (no model needed).

The misheard inputs are what Whisper base wrote for the development set (bench/voice_dev), or the
office's known slips (首报 -> 手报, 续报 -> 蓄暴); never the shared voice set's transcripts."""

from __future__ import annotations

import pytest

from voice.engine import Segment, Transcript
from voice.glossary import DEFAULT_GLOSSARY, DEFAULT_TERMS, Glossary
from voice.postprocess import correct_homophones, drop_filler, finalize, postprocess, reliable_segments


def test_traditional_becomes_simplified() -> None:
    assert (
        postprocess("請各科室把材料發到郵箱裡，鏈接稍後發", homophones=False) == "请各科室把材料发到邮箱里，链接稍后发"
    )


def test_ascii_commas_between_chinese_become_full_width() -> None:
    assert postprocess("好的,我十分钟后到", homophones=False) == "好的，我十分钟后到"


@pytest.mark.parametrize(
    "text",
    [
        "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
        "字幕由Amara.org社区提供",
        "谢谢观看。",
        "Thanks for watching!",
    ],
)
def test_known_filler_is_dropped(text: str) -> None:
    assert drop_filler(text) == ""


def test_filler_inside_real_speech_leaves_the_speech() -> None:
    assert drop_filler("请按时到场。字幕由Amara.org社区提供") == "请按时到场。"


def test_runaway_repetition_collapses() -> None:
    assert drop_filler("收到收到收到收到收到收到") == "收到"
    assert drop_filler("好好好") == "好好好"  # short natural repetition stays


def test_low_confidence_segments_are_dropped() -> None:
    speech = Segment(0, 2, "请值班员今晚到岗", avg_logprob=-0.3, no_speech_prob=0.1)
    silence = Segment(2, 5, "谢谢大家", avg_logprob=-1.2, no_speech_prob=0.9)
    gibberish = Segment(5, 7, "啊啊", avg_logprob=-2.0, no_speech_prob=0.2)
    looping = Segment(7, 9, "的的的", avg_logprob=-0.5, no_speech_prob=0.1, compression_ratio=3.1)
    assert reliable_segments([speech, silence, gibberish, looping]) == [speech]


def test_finalize_cleans_text_and_segments() -> None:
    raw = Transcript(
        text="",
        language="zh",
        duration=6,
        segments=(
            Segment(0, 3, "直班人員要保持通訊暢通", avg_logprob=-0.4),
            Segment(3, 5, "請把通知轉發給所有職頒員", avg_logprob=-0.4),
            Segment(5, 6, "字幕由Amara.org社区提供", avg_logprob=-0.4),
        ),
        engine="test",
    )
    done = finalize(raw)
    assert done.text == "值班人员要保持通讯畅通，请把通知转发给所有值班员"
    assert len(done.segments) == 2
    assert done.engine == "test"


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("明早全体队员立即到港", "明早全体队员立即到岗"),
        ("十分钟内手报", "十分钟内首报"),
        ("半小时后蓄暴", "半小时后续报"),
        ("请尽快叙报", "请尽快续报"),
        ("各部门报送本周直班安排", "各部门报送本周值班安排"),
        ("请办公室把会议记要整理好", "请办公室把会议纪要整理好"),
        ("市气象台发布台风程色预警", "市气象台发布台风橙色预警"),
        ("上报在情信息", "上报灾情信息"),
        ("防讯物资仓库", "防汛物资仓库"),
        ("请做好信息包送", "请做好信息报送"),  # longest match: 4-character term
    ],
)
def test_homophones_of_glossary_terms_are_fixed(heard: str, meant: str) -> None:
    assert correct_homophones(heard, DEFAULT_GLOSSARY) == meant


@pytest.mark.parametrize(
    "sentence",
    [
        "周四上午九点，防汛工作会议改到五楼小会议室，请准时到场。",
        "我们要采取相应的措施，在会上讨论。",  # 相应 ~ 响应, 会上 ~ 会商: common words stay
        "同志们，我们既要防汛又要抗旱。",  # 同志 ~ 通知, 既要 ~ 纪要
        "山上有落石，请落实封路。",  # both are office words: neither is rewritten
        "中午吃饭了吗？",
    ],
)
def test_no_false_positive_on_normal_sentences(sentence: str) -> None:
    assert correct_homophones(sentence, DEFAULT_GLOSSARY) == sentence


def test_call_time_names_are_corrected_too() -> None:
    glossary = DEFAULT_GLOSSARY.extended(["张志强", "青石镇"])
    assert correct_homophones("请章志强去清石镇", glossary) == "请张志强去青石镇"
    # Without the names nothing changes: corrections come only from the glossary.
    assert correct_homophones("请章志强去清石镇", DEFAULT_GLOSSARY) == "请章志强去清石镇"


def test_single_character_terms_are_never_used() -> None:
    assert correct_homophones("他是一个人", Glossary.build(["事"], include_defaults=False)) == "他是一个人"


def test_glossary_is_shipped_deduplicated_and_extendable() -> None:
    assert len(DEFAULT_TERMS) >= 100
    assert len(set(DEFAULT_GLOSSARY.terms)) == len(DEFAULT_GLOSSARY.terms)
    for term in ("到岗", "首报", "续报", "终报", "带班领导", "转移安置", "会商", "研判"):
        assert term in DEFAULT_GLOSSARY.terms
    extended = Glossary.build(["青石镇", " ", "到岗"])
    assert extended.terms.count("到岗") == 1 and "青石镇" in extended.terms
    assert DEFAULT_GLOSSARY.prompt(priority=["张志强"]).startswith("以下是普通话的句子")
    assert "张志强" in DEFAULT_GLOSSARY.prompt(priority=["张志强"])
    assert DEFAULT_GLOSSARY.hotwords(limit=3, priority=["张志强"]).split() == ["张志强", "值班", "带班领导"]
