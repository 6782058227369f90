"""The framework's hot path: what each event costs is done once per event, not once per handler."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import Command, CommandObject, Dispatcher, Message, Router
from bot import filters as bot_filters
from bot.filters import PlainText
from bot.outbound import current_outbound
from tests.bot.fakes import RecordingOutbound, message


@pytest.fixture
def out() -> Iterator[RecordingOutbound]:
    recorder = RecordingOutbound()
    token = current_outbound.set(recorder)
    yield recorder
    current_outbound.reset(token)


def busy_dispatcher() -> Dispatcher:
    """Twenty features' worth of commands before the one that takes `!last`, and a text handler."""
    dp = Dispatcher()
    for i in range(20):
        router = Router(f"feature{i}")

        @router.message(Command(f"cmd{i}", aliases=(f"命令{i}",)))
        async def other(message: Message) -> None:
            await message.reply("other")

        dp.include_router(router)
    last = Router("last")

    @last.message(Command("last"))
    async def take(message: Message, command: CommandObject) -> None:
        await message.reply(f"last {command.args}")

    @last.message(PlainText())
    async def chat(message: Message) -> None:
        await message.reply("chat")

    dp.include_router(last)
    return dp


@pytest.mark.parametrize(("body", "answer"), [("!last x", "last x"), ("大家好", "chat"), ("!lsat", None)])
async def test_a_message_is_parsed_once_however_many_handlers_look_at_it(
    out: RecordingOutbound, monkeypatch: pytest.MonkeyPatch, body: str, answer: str | None
) -> None:
    calls: list[str] = []
    real = bot_filters.parse_command_text

    def counting(text: str, **kwargs: object) -> bot_filters.ParsedText | None:
        calls.append(text)
        return real(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bot_filters, "parse_command_text", counting)
    await busy_dispatcher().feed(message(body))
    assert calls == [body]
    if answer is not None:
        assert out.bodies[-1] == answer
    else:
        assert "last" in out.bodies[-1]  # the near miss still gets its "did you mean"


async def test_a_command_added_after_first_use_is_found(out: RecordingOutbound) -> None:
    dp = busy_dispatcher()
    await dp.feed(message("!late"))
    late = Router("late")

    @late.message(Command("late"))
    async def answer(message: Message) -> None:
        await message.reply("late")

    dp.include_router(late)
    assert dp.find_command("LATE") is not None
    await dp.feed(message("!late"))
    assert out.bodies[-1] == "late"
