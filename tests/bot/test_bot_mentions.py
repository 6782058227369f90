"""Mentions become full Matrix IDs, whichever way the client wrote them."""

from bot.mentions import text_with_ids, user_ids_in


def test_pills_become_ids() -> None:
    html = 'chain <a href="https://matrix.to/#/@chu:office.cn">处长</a> &gt; <a href="https://matrix.to/#/@fu:office.cn">副</a>'
    text = text_with_ids("chain 处长 > 副", html, "office.cn")
    assert text == "chain @chu:office.cn > @fu:office.cn"


def test_short_names_get_the_default_server() -> None:
    assert (
        text_with_ids("@chu > @fu & @zheng:other.cn", None, "office.cn")
        == "@chu:office.cn > @fu:office.cn & @zheng:other.cn"
    )


def test_ids_in_order_without_repeats() -> None:
    assert user_ids_in("@a:x > @b:x & @a:x") == ["@a:x", "@b:x"]


def test_emails_are_not_mentions() -> None:
    assert text_with_ids("write to li@office.cn", None, "office.cn") == "write to li@office.cn"


def test_full_ids_with_hyphens_are_left_alone() -> None:
    assert text_with_ids("@bob-1-abc:localhost & @li-2", None, "office.cn") == "@bob-1-abc:localhost & @li-2:office.cn"
