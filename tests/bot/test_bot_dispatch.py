"""The framework: routing, filters, injection, middlewares, errors, help, ordering."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bot import (
    Command,
    CommandObject,
    Dispatcher,
    Message,
    Reaction,
    ReactionEvent,
    Router,
    State,
    StateFilter,
    StatesGroup,
    UserFacingError,
)
from bot.errors import Refusal
from bot.filters import parse_command_text
from bot.help import help_router
from bot.outbound import current_outbound
from tests.bot.fakes import RecordingOutbound, message, reaction

ECHO = Command(
    "echo",
    aliases=("回声",),
    usage={"zh": "!回声 <文字>", "en": "!echo <text>"},
    summary={"zh": "原样返回", "en": "Echo back"},
    example="!echo 你好",
)


@pytest.fixture
def out() -> Iterator[RecordingOutbound]:
    recorder = RecordingOutbound()
    token = current_outbound.set(recorder)
    yield recorder
    current_outbound.reset(token)


def make_dispatcher(**context: Any) -> Dispatcher:
    dp = Dispatcher(**context)
    dp.catalog.add({"echo.empty": {"zh": "请给出要返回的文字。", "en": "Give me some text to echo."}})
    dp.include_router(help_router())
    router = Router("echo")

    @router.message(ECHO)
    async def echo(message: Message, command: CommandObject) -> None:
        if not command.args:
            raise UserFacingError("echo.empty")
        await message.reply(command.args)

    @router.reaction(Reaction("✅"))
    async def ack(reaction: ReactionEvent, greeting: str) -> None:
        await reaction.react(greeting)

    dp.include_router(router)
    return dp


@pytest.mark.parametrize(
    ("body", "word", "args"),
    [
        ("!echo hi there", "echo", "hi there"),
        ("！回声 你好", "回声", "你好"),
        ("  !ECHO x", "ECHO", "x"),
        ("@zhiban:localhost: echo hi", "echo", "hi"),
        ("zhiban，!echo hi", "echo", "hi"),
    ],
)
def test_command_text_is_parsed_with_prefixes_and_mentions(body: str, word: str, args: str) -> None:
    parsed = parse_command_text(body, bot_user_id="@zhiban:localhost", bot_names=["zhiban"])
    assert parsed is not None and (parsed.word, parsed.args) == (word, args)


@pytest.mark.parametrize("body", ["hello", "!", "the !echo in the middle", "zhibanx echo"])
def test_plain_text_is_not_a_command(body: str) -> None:
    assert parse_command_text(body, bot_user_id="@zhiban:localhost", bot_names=["zhiban"]) is None


async def test_command_handler_receives_what_it_names(out: RecordingOutbound) -> None:
    dp = make_dispatcher()
    await dp.feed(message("！回声 你好"))
    assert out.bodies == ["你好"]
    reply = out.sent[0][2]
    assert "m.in_reply_to" in reply["m.relates_to"]


async def test_context_values_are_injected(out: RecordingOutbound) -> None:
    dp = make_dispatcher(greeting="👍")
    await dp.feed(reaction("✅\ufe0f", "$card"))
    assert out.sent[0][1] == "m.reaction"
    assert out.sent[0][2]["m.relates_to"]["key"] == "👍"


async def test_user_error_gets_message_and_usage_in_chinese_by_default(out: RecordingOutbound) -> None:
    dp = make_dispatcher()
    await dp.feed(message("!echo"))
    assert len(out.bodies) == 1
    assert "请给出要返回的文字" in out.bodies[-1] and "用法" in out.bodies[-1] and "!echo 你好" in out.bodies[-1]


async def test_a_refusal_gives_the_reason_without_usage(out: RecordingOutbound) -> None:
    """Usage after "you may not" only invites a retry that fails again. A refusal says so by its
    type (Refusal), never by how its text key happens to end."""
    error = Refusal("echo.not_allowed")
    dp = make_dispatcher()
    dp.catalog.add({error.key: {"zh": "只有值班人员可以回声。", "en": "Only staff may echo."}})
    router = Router("guarded")

    @router.message(Command("guarded", aliases=("守卫",), usage={"zh": "!守卫 <文字>"}, example="!guarded x"))
    async def guarded(message: Message) -> None:
        raise error

    dp.include_router(router)
    await dp.feed(message("!guarded hi"))
    [body] = out.bodies
    assert "只有值班人员可以回声" in body
    assert "用法" not in body and "!守卫" not in body


async def test_unexpected_failure_gets_an_apology_not_a_traceback(out: RecordingOutbound) -> None:
    dp = make_dispatcher()
    router = Router("broken")

    @router.message(Command("broken"))
    async def broken(message: Message) -> None:
        raise KeyError("internal detail")

    dp.include_router(router)
    await dp.feed(message("!broken"))
    assert "出错" in out.bodies[0] and "internal detail" not in out.bodies[0]


async def test_unknown_command_answers_with_a_suggestion(out: RecordingOutbound) -> None:
    dp = make_dispatcher()
    await dp.feed(message("!ecko hi"))
    assert "未知命令 !ecko" in out.bodies[0] and "!echo" in out.bodies[0]


async def test_help_lists_commands_and_explains_one(out: RecordingOutbound) -> None:
    dp = make_dispatcher()
    await dp.feed(message("!help"))
    assert "!回声" in out.bodies[0] and "原样返回" not in out.bodies[0], "the index names, details on request"
    await dp.feed(message("!帮助 echo"))
    assert "!回声 <文字>" in out.bodies[1] and "示例" in out.bodies[1]
    await dp.feed(message("!help nonsense"))
    assert "nonsense" in out.bodies[2]


async def test_english_speaker_gets_english(out: RecordingOutbound) -> None:
    dp = make_dispatcher()
    await dp.feed(message("!whatever", is_dm=True), {"lang": "en"})
    assert out.bodies[0].startswith("Unknown command !whatever")


async def test_unknown_words_in_shared_rooms_are_left_to_other_bots(out: RecordingOutbound) -> None:
    dp = make_dispatcher()
    await dp.feed(message("!weather 北京"))
    assert out.bodies == []
    await dp.feed(message("!weather 北京", is_dm=True))
    assert "未知命令 !weather" in out.bodies[0]


async def test_oversized_command_is_refused(out: RecordingOutbound) -> None:
    dp = make_dispatcher(max_message_chars=50)
    dp.max_message_chars = 50
    await dp.feed(message("!echo " + "字" * 100))
    assert "太长" in out.bodies[0]


async def test_outer_and_inner_middlewares_wrap_in_order(out: RecordingOutbound) -> None:
    dp = make_dispatcher()
    trail: list[str] = []

    async def outer(handler, event, data):  # type: ignore[no-untyped-def]
        trail.append("outer")
        data["seen_by_outer"] = True
        return await handler(event, data)

    async def inner(handler, event, data):  # type: ignore[no-untyped-def]
        trail.append(f"inner:{data['seen_by_outer']}")
        return await handler(event, data)

    dp.outer_middleware(outer)
    dp.sub_routers[1].message.middleware(inner)
    await dp.feed(message("!echo a"))
    await dp.feed(message("just chatting"))
    assert trail == ["outer", "inner:True", "outer"]


class Form(StatesGroup):
    title = State()
    chain = State()


async def test_fsm_wizard_walks_steps_per_user(out: RecordingOutbound) -> None:
    dp = Dispatcher()
    router = Router("wizard")

    @router.message(Command("start"))
    async def start(message: Message, state: Any) -> None:
        await state.set_state(Form.title)
        await message.reply("title?")

    @router.message(StateFilter(Form.title))
    async def got_title(message: Message, state: Any) -> None:
        await state.update_data(title=message.body)
        await state.set_state(Form.chain)
        await message.reply("chain?")

    @router.message(StateFilter(Form.chain))
    async def got_chain(message: Message, state: Any) -> None:
        data = await state.get_data()
        await state.clear()
        await message.reply(f"{data['title']} / {message.body}")

    dp.include_router(router)
    await dp.feed(message("!start"))
    await dp.feed(message("another user's chat", sender="@bob:x"))
    await dp.feed(message("防汛请示"))
    await dp.feed(message("@a > @b"))
    await dp.feed(message("after the flow"))
    assert Form.states() == [Form.title, Form.chain]
    assert out.bodies == ["title?", "chain?", "防汛请示 / @a > @b"]


async def test_events_of_one_user_run_in_order_while_others_proceed(out: RecordingOutbound) -> None:
    dp = Dispatcher()
    router = Router("slow")
    order: list[str] = []
    release = asyncio.Event()

    @router.message(Command("slow"))
    async def slow(message: Message) -> None:
        await release.wait()
        order.append(message.body)

    @router.message(Command("fast"))
    async def fast(message: Message) -> None:
        order.append(message.body)

    dp.include_router(router)
    first = dp.submit(message("!slow 1", sender="@a:x"))
    second = dp.submit(message("!fast 2", sender="@a:x"))
    other = dp.submit(message("!fast 3", sender="@b:x"))
    await other
    assert order == ["!fast 3"]  # @b was not held up by @a's slow handler
    release.set()
    await asyncio.gather(first, second)
    assert order == ["!fast 3", "!slow 1", "!fast 2"]


async def test_duplicate_event_in_one_run_is_dropped(out: RecordingOutbound) -> None:
    dp = make_dispatcher()
    msg = message("!echo once")
    await dp.submit(msg)
    await dp.submit(msg)
    assert out.bodies == ["once"]
