"""The plain-text filter: a wizard answer is typed text that is not a command, and not a voice
message waiting for its transcript."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import Dispatcher, Message, Router
from bot.filters import PlainText, Voice
from bot.outbound import current_outbound
from tests.bot.fakes import RecordingOutbound, message


@pytest.fixture
def out() -> Iterator[RecordingOutbound]:
    recorder = RecordingOutbound()
    token = current_outbound.set(recorder)
    yield recorder
    current_outbound.reset(token)


def answering_plain_text() -> Dispatcher:
    dp = Dispatcher()
    router = Router("wizard")

    @router.message(PlainText())
    async def answer(message: Message) -> None:
        await message.reply(f"noted: {message.body}")

    dp.include_router(router)
    return dp


async def test_a_sentence_is_taken_and_a_command_or_voice_is_not(out: RecordingOutbound) -> None:
    dp = answering_plain_text()
    await dp.feed(message("明天上午九点"))
    await dp.feed(message("!ping"))
    await dp.feed(message("", is_voice=True, msgtype="m.audio"))
    bodies = [content["body"] for _, _, content in out.sent]
    assert bodies[0] == "noted: 明天上午九点"
    assert not any(body.startswith("noted") for body in bodies[1:])


async def test_an_unmarked_audio_file_is_neither_text_nor_a_voice_note(out: RecordingOutbound) -> None:
    dp = answering_plain_text()
    heard: list[str] = []
    voice = Router("voice")

    @voice.message(Voice())
    async def on_voice(message: Message) -> None:
        heard.append(message.body)

    dp.include_router(voice)
    await dp.feed(message("周一例会录音.mp3", msgtype="m.audio"))  # a file, not marked as voice
    await dp.feed(message("语音消息.ogg", msgtype="m.audio", is_voice=True))
    assert heard == ["语音消息.ogg"], "only the marked voice note is a voice note"
    assert not out.sent, "the file name is not an answer to read"
