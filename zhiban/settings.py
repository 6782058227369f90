"""Settings: a TOML file, overridden by ZHIBAN_* environment variables, validated up front.

Nothing here reads a file on import; `load_settings()` is called by the CLI.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG = "zhiban.toml"


class ConfigError(Exception):
    """A config problem explained in plain words, printed by the CLI without a traceback."""


class _Section(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid")


class MatrixSettings(_Section):
    homeserver: str = "http://127.0.0.1:8008"
    user_id: str = "@zhiban:localhost"
    password: str | None = None
    access_token: str | None = None
    device_id: str | None = None
    device_name: str = "Zhiban bot"
    e2ee: bool = True
    # Direct-message rooms the bot opens. Off by default: a message sent before the person
    # has joined cannot be decrypted by them, and notices must always be readable.
    encrypt_new_rooms: bool = False
    # Auto-join policy: invitations are accepted from these servers or users only.
    allowed_servers: list[str] = Field(default_factory=lambda: ["localhost"])
    allowed_users: list[str] = Field(default_factory=list)
    prefix: str = "!"
    # A message longer than this is refused with a short answer instead of being parsed.
    max_message_chars: int = 8000


class DatabaseSettings(_Section):
    url: str = ""  # empty: SQLite under data_dir


class RedisSettings(_Section):
    url: str = ""  # empty: localhost if it answers, else an embedded redis-server
    queue: str = "zhiban"


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    secret_key: str = ""


class PushSettings(_Section):
    vapid_private_key: str = ""
    vapid_public_key: str = ""
    vapid_subject: str = "mailto:admin@localhost"
    allowed_hosts: list[str] = Field(
        default_factory=lambda: [
            "fcm.googleapis.com",
            "updates.push.services.mozilla.com",
            "*.push.apple.com",
            "*.notify.windows.com",
        ]
    )
    signin_link_minutes: int = 15


class VoiceSettings(_Section):
    enabled: bool = True
    model_dir: str = ""
    max_bytes: int = 20 * 1024 * 1024
    max_seconds: int = 600
    glossary: list[str] = Field(default_factory=list)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHIBAN_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path("data")
    default_lang: str = "zh"
    default_tz: str = "Asia/Shanghai"
    matrix: MatrixSettings = Field(default_factory=MatrixSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    # Role name → Matrix user ids, e.g. leader = ["@zhang:office.example"].
    roles: dict[str, list[str]] = Field(default_factory=dict)
    # Room that receives office-wide notices (duty room); a room id or alias.
    duty_room: str = ""

    @field_validator("default_lang")
    @classmethod
    def _known_lang(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("must be 'zh' or 'en'")
        return value

    @field_validator("default_tz")
    @classmethod
    def _known_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use a name such as Asia/Shanghai)") from None
        return value

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        known = {"leader", "duty_leader", "duty_officer", "staff", "admin"}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown role(s) {sorted(unknown)}; known: {sorted(known)}")
        return value

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.data_dir / 'zhiban.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment variables win over the file, which is given as init values.
        return (env_settings, init_settings)


def config_path(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get("ZHIBAN_CONFIG") or DEFAULT_CONFIG)


def load_settings(path: str | Path | None = None, *, required: bool = False) -> Settings:
    """Read and validate the config; every problem becomes one readable ConfigError."""
    file = config_path(path)
    values: dict[str, Any] = {}
    if file.exists():
        try:
            values = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file} is not valid TOML: {exc}. Fix the line named above.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {file}: {exc}") from None
    elif required:
        raise ConfigError(f"no config file at {file}. Run `zhiban init` to write one.")
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"])
            problems.append(f"  - {where}: {err['msg']}")
        raise ConfigError(f"{file} has {len(problems)} problem(s):\n" + "\n".join(problems)) from None
