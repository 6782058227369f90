"""A small aiogram-style framework for Matrix bots, built on matrix-nio.

It knows nothing of offices: routers, filters, middlewares, an FSM, i18n, and a client that
owns the sync token so that every event is handled once.
"""

from bot.client import BotClient, ClientOptions, JoinPolicy, TokenStore
from bot.dispatcher import Dispatcher
from bot.errors import MatrixError, Refusal, UserFacingError
from bot.filters import Command, CommandObject, IsReply, Reaction, RoomKind, Text, Voice
from bot.fsm import FSMContext, MemoryStorage, RedisStorage, State, StateFilter, StatesGroup
from bot.i18n import Catalog
from bot.outbound import Outbound, Sent, current_outbound
from bot.router import UNHANDLED, Router
from bot.types import Event, Media, MemberEvent, Message, ReactionEvent, ReceiptEvent, RedactionEvent

__all__ = [
    "UNHANDLED",
    "BotClient",
    "Catalog",
    "ClientOptions",
    "Command",
    "CommandObject",
    "Dispatcher",
    "Event",
    "FSMContext",
    "IsReply",
    "JoinPolicy",
    "MatrixError",
    "Media",
    "MemberEvent",
    "MemoryStorage",
    "Message",
    "Outbound",
    "Reaction",
    "ReactionEvent",
    "ReceiptEvent",
    "RedactionEvent",
    "RedisStorage",
    "Refusal",
    "RoomKind",
    "Router",
    "Sent",
    "State",
    "StateFilter",
    "StatesGroup",
    "Text",
    "TokenStore",
    "UserFacingError",
    "Voice",
    "current_outbound",
]
