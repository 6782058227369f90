"""The board as a Matrix widget, signed in with the widget API's OpenID token, against a real Synapse.

A person asks their homeserver for an OpenID token (what Element hands a widget on `get_openid`),
the server trades it for a bearer token after asking the homeserver whose it is, and that token
reads and acts on that person's board only. Forged tokens and tokens of another server are refused.
The widget page may be framed by the configured web client; /board/ may not.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from board_fake import FakeSource, board
from live_server import serve
from push_env import make_settings
from sse import events, next_board

from records.config import Settings
from records.migrate import upgrade_async
from server.app import create_app
from tests.support.chat_user import ChatUser
from tests.support.fixtures import MakeUser, homeserver, make_user
from zhiban.local.homeserver import LocalHomeserver

__all__ = ["homeserver", "make_user"]  # fixtures, imported so this module runs standalone

pytestmark = pytest.mark.e2e

ELEMENT = "https://element.office.test"
# Bounds for a test that would otherwise hang on a broken stream; never a timing assertion.
BOUND = 20.0


def widget_settings(tmp_path: Path, hs: LocalHomeserver) -> Settings:
    base = make_settings(tmp_path)
    return base.model_copy(
        update={
            "matrix": base.matrix.model_copy(
                update={"homeserver": hs.base_url, "user_id": f"@zhiban:{hs.server_name}"}
            ),
            "server": base.server.model_copy(update={"widget_frame_ancestors": [ELEMENT]}),
        }
    )


async def openid_token(user: ChatUser) -> dict[str, str]:
    """What the user's client gets for a widget: POST /user/{userId}/openid/request_token."""
    url = f"{user.client.homeserver}/_matrix/client/v3/user/{user.user_id}/openid/request_token"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json={}, headers={"Authorization": f"Bearer {user.access_token}"}) as answer,
    ):
        assert answer.status == 200, await answer.text()
        body: dict[str, str] = await answer.json()
    return body


@asynccontextmanager
async def widget_server(settings: Settings, source: FakeSource) -> AsyncIterator[httpx.AsyncClient]:
    await upgrade_async(settings.database_url)
    async with (
        serve(create_app(settings, extra={"board_source": source})) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=BOUND) as client,
    ):
        yield client


async def test_an_openid_token_signs_the_widget_in_as_that_person_only(
    make_user: MakeUser, homeserver: LocalHomeserver, tmp_path: Path
) -> None:
    alice = await make_user("alice", start=False)
    bob = await make_user("bob", start=False)
    source = FakeSource({alice.user_id: board("防汛物资采购"), bob.user_id: board("别人的请示")})
    settings = widget_settings(tmp_path, homeserver)
    async with widget_server(settings, source) as client:
        token = await openid_token(alice)
        assert token["matrix_server_name"] == homeserver.server_name
        answer = await client.post("/api/board/widget-session", json=token)
        assert answer.status_code == 200, answer.text
        assert "set-cookie" not in answer.headers, "a widget gets no cookie"
        session = answer.json()
        assert session["user_id"] == alice.user_id
        assert session["expires_in"] == settings.server.widget_session_minutes * 60
        auth = {"Authorization": f"Bearer {session['access_token']}"}

        read = await client.get("/api/board", headers=auth)
        assert read.status_code == 200
        titles = [item["title"] for item in read.json()["sections"][0]["items"]]
        assert titles == ["防汛物资采购"], "alice's board, not bob's"

        acted = await client.post(
            "/api/board/actions", headers=auth, json={"kind": "approve", "ref": "A1", "key": "widget-key-1"}
        )
        assert acted.status_code == 200, acted.text
        assert [(who, action.ref) for who, action in source.actions] == [(alice.user_id, "A1")]

        # The live stream takes the token as a query parameter (an EventSource sends no headers).
        params = {"access_token": session["access_token"]}
        async with client.stream("GET", "/api/board/events", params=params) as response:
            assert response.status_code == 200
            first = await asyncio.wait_for(next_board(events(response)), BOUND)
        assert first.json()["sections"][0]["items"][0]["title"] == "防汛物资采购"

        # The token is worth nothing on other routes' query strings, nor once garbled.
        assert (await client.get("/api/board", params=params)).status_code == 401
        garbled = {"Authorization": f"Bearer {session['access_token']}x"}
        assert (await client.get("/api/board", headers=garbled)).status_code == 401
        # Nor on the step-up pages: a widget's token cannot enrol an authenticator or confirm 签发.
        assert (await client.post("/security/totp", headers=auth)).status_code == 401
        assert (await client.post("/confirm/any-token/totp", headers=auth, json={"code": "123456"})).status_code == 401


async def test_forged_and_foreign_tokens_are_refused(
    make_user: MakeUser, homeserver: LocalHomeserver, tmp_path: Path
) -> None:
    carol = await make_user("carol", start=False)
    source = FakeSource({carol.user_id: board("机密请示")})
    settings = widget_settings(tmp_path, homeserver)
    async with widget_server(settings, source) as client:
        real = await openid_token(carol)
        forged = await client.post(
            "/api/board/widget-session",
            json={"access_token": "made-up-token", "matrix_server_name": homeserver.server_name},
        )
        assert forged.status_code == 401 and forged.json()["error"] == "bad_openid"
        # A real token, but claimed for another server: we only ask our own homeserver.
        foreign = await client.post("/api/board/widget-session", json={**real, "matrix_server_name": "evil.example"})
        assert foreign.status_code == 403 and foreign.json()["error"] == "foreign_server"
        # The client API's access token is not an OpenID token either.
        wrong_kind = await client.post(
            "/api/board/widget-session",
            json={"access_token": carol.access_token, "matrix_server_name": homeserver.server_name},
        )
        assert wrong_kind.status_code == 401
        assert (await client.get("/api/board", headers={"Authorization": "Bearer made-up"})).status_code == 401
        assert source.snapshots == 0, "nobody's board was read"


async def test_only_the_widget_page_may_be_framed_and_only_by_the_configured_client(
    homeserver: LocalHomeserver, tmp_path: Path
) -> None:
    settings = widget_settings(tmp_path, homeserver)
    async with widget_server(settings, FakeSource()) as client:
        widget = await client.get("/board/widget", params={"widgetId": "zhiban-board"})
        page = await client.get("/board/")
    assert widget.status_code == 200 and "board.js" in widget.text
    assert f"frame-ancestors 'self' {ELEMENT}" in widget.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert ELEMENT not in page.headers["content-security-policy"]


@pytest.mark.parametrize("origin", ["https://app.element.io/#/room", "https://a.test 'unsafe-inline'", "ftp://a.test"])
def test_frame_ancestors_must_be_plain_origins(tmp_path: Path, origin: str) -> None:
    # Anything more than scheme://host[:port] would change what the policy allows.
    base = make_settings(tmp_path)
    with pytest.raises(ValueError, match="widget_frame_ancestors"):
        Settings.model_validate({**base.model_dump(), "server": {"widget_frame_ancestors": [origin]}})
    allowed = Settings.model_validate(
        {**base.model_dump(), "server": {"widget_frame_ancestors": ["HTTPS://App.Element.io/"]}}
    )
    assert allowed.server.widget_frame_ancestors == ["https://app.element.io"]


async def test_guessing_openid_tokens_is_limited_as_sign_in_links_are(
    homeserver: LocalHomeserver, tmp_path: Path
) -> None:
    base = widget_settings(tmp_path, homeserver)
    settings = base.model_copy(update={"server": base.server.model_copy(update={"signin_requests_per_minute": 2})})
    guess = {"access_token": "guessed", "matrix_server_name": homeserver.server_name}
    async with widget_server(settings, FakeSource()) as client:
        answers = [(await client.post("/api/board/widget-session", json=guess)).status_code for _ in range(3)]
    assert answers == [401, 401, 429], "each guess costs a question to the homeserver"
