"""Settings: a TOML file, overridden by ZHIBAN_* environment variables, validated up front.

Nothing here reads a file on import; `load_settings()` is called by the CLI.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from records import config_checks as checks
from records.config_checks import Grade, NonNegative, NonNegativeSeconds, Port, Positive, PositiveSeconds, PushHost

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
    max_message_chars: Positive = 8000

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        return checks.matrix_user_id(value)

    @property
    def server_name(self) -> str:
        """The bot's homeserver name (from its user id): where a short `@name` is completed."""
        return self.user_id.partition(":")[2]

    @field_validator("homeserver")
    @classmethod
    def _homeserver(cls, value: str) -> str:
        return checks.http_url(value)


class DatabaseSettings(_Section):
    url: str = ""  # empty: SQLite under data_dir
    # The password apart from the URL (best as ZHIBAN_DATABASE__PASSWORD), so that one with
    # @ : / or % in it needs no escaping by hand: it is quoted into the URL here.
    password: str = ""
    # PostgreSQL connections each process (the bot, each worker, the server) keeps open, opened
    # as needed. The bot runs a turn per sender at once, each holding a connection for its
    # transaction: a burst of 50 senders takes turns on `pool_size` of them, which on a few cores
    # is as fast as more (10 and 20 measured alike). `pool_max_overflow` more may be opened in a
    # burst, but each is closed again when returned, and a new one costs PostgreSQL a backend
    # process and the driver its type set-up and prepared statements (measured: 2.5x the
    # server's CPU per event at 5 + 10 against 10 + 0): raise `pool_size` instead. The sum over
    # the processes (the server keeps two pools: its own and the board's) must stay below
    # PostgreSQL's max_connections (100 by default). SQLite ignores these.
    pool_size: Positive = 10
    pool_max_overflow: NonNegative = 0
    # How long a turn waits for a connection when all are busy before it fails (its event then
    # waits for the next start). A burst queues here: 200 acknowledgements of one order, drawn
    # one at a time under the order's lock, took 35-45 s on a busy 2-core machine, and at 30 s
    # the last ones failed (bench.order_acks).
    pool_timeout_seconds: PositiveSeconds = 120.0
    # Connections older than this are replaced when next taken (a firewall or pgbouncer
    # dropping idle connections would otherwise fail the next turn); 0: never.
    pool_recycle_seconds: NonNegativeSeconds = 1800.0
    # Statements kept prepared per connection (parsed and planned once, then only executed);
    # the hot path uses a few dozen. 0 turns it off (needed behind pgbouncer in transaction mode).
    prepared_statements: NonNegative = 500


class RedisSettings(_Section):
    url: str = ""  # empty: localhost if it answers, else an embedded redis-server
    queue: str = "zhiban"


class WorkerSettings(_Section):
    # How long a claimed timer waits for its job before another pump hands it out again
    # (a lost Redis job, a crashed worker). A running job renews it every quarter of it, so it
    # bounds how late a lost job makes its timer, not how long a job may run.
    claim_lease_seconds: PositiveSeconds = 8
    pump_interval_seconds: PositiveSeconds = 1.0


class MetricsSettings(_Section):
    """Where the bot and each worker serve Prometheus figures (the server has /metrics).

    Plain HTTP without a token (prometheus_client's server): on the loopback address unless
    told otherwise. In containers, `host = "0.0.0.0"` on a network only Prometheus shares.
    """

    host: str = "127.0.0.1"
    # 0: off. Suggested: 9101 for the bot, 9102 for a worker (one per host or container).
    bot_port: int = Field(default=0, ge=0, le=65535)
    worker_port: int = Field(default=0, ge=0, le=65535)


class LoggingSettings(_Section):
    # "json": one JSON object per line, with the domain fields (timer, record, person) as keys.
    format: Literal["text", "json"] = "text"


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: Port = 8080
    public_url: str = "http://127.0.0.1:8080"
    # Signs the browser session cookies. Empty: a random key per process (sign-ins end at a
    # restart, with a warning); otherwise at least 32 characters.
    secret_key: str = ""
    # Request bodies above these sizes are refused with 413 before they are parsed.
    max_body_bytes: Positive = 16 * 1024
    # Homeserver notifications carry event content, so the push gateway accepts more.
    gateway_max_body_bytes: Positive = 128 * 1024
    # How long a browser stays signed in after opening a sign-in link.
    session_days: Positive = 30
    # /api/docs and /api/openapi.json: off unless asked for (the docs page loads Swagger UI
    # from a CDN, so enable it on development machines only).
    api_docs: bool = False
    # /metrics answers only `Authorization: Bearer <metrics_token>`; empty: /metrics is off.
    metrics_token: str = ""
    # Requests per minute, per client address and per signed-in person (per server copy).
    api_requests_per_minute: Positive = 120
    # Sign-in page requests per minute per client address: a link is a secret worth guessing.
    signin_requests_per_minute: Positive = 20
    # Step-up pages (/security, /confirm/<token>) requests per minute per client address: they
    # hold the links and codes that confirm 签发; a confirmation takes three or four requests.
    stepup_requests_per_minute: Positive = 60
    # Push gateway notifications per minute per client address (a homeserver sends many).
    gateway_requests_per_minute: Positive = 1200
    # The board as a Matrix widget (/board/widget): the web clients (origins, e.g.
    # "https://app.element.io") whose pages may frame it, besides this server itself. Empty:
    # only this server's own pages may; the normal board (/board/) is never framed.
    widget_frame_ancestors: list[str] = Field(default_factory=list)
    # How long a widget's sign-in (an OpenID token exchanged at /api/board/widget-session) lasts;
    # the widget asks its client for a new token when it ends.
    widget_session_minutes: Positive = 60

    @field_validator("widget_frame_ancestors")
    @classmethod
    def _frame_ancestors(cls, value: list[str]) -> list[str]:
        # Origins only: a path, a quote or a space would change the policy's meaning.
        return [checks.http_origin(origin) for origin in value]

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return checks.http_url(value)

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: str) -> str:
        return checks.secret_key(value)


class PushSettings(_Section):
    vapid_private_key: str = ""
    vapid_public_key: str = ""
    vapid_subject: str = "mailto:admin@localhost"
    allowed_hosts: list[PushHost] = Field(
        default_factory=lambda: [
            "fcm.googleapis.com",
            "updates.push.services.mozilla.com",
            "*.push.apple.com",
            "*.notify.windows.com",
        ]
    )
    signin_link_minutes: Positive = 15
    # Plain-http loopback endpoints (the in-repo fake push service) for tests and demos only.
    allow_insecure_loopback: bool = False
    # The sender: requests in flight, per-request timeout, and in-process retries before a
    # delivery goes back to the durable timer for a later attempt (still within its TTL).
    max_in_flight: Positive = 100
    send_timeout_seconds: PositiveSeconds = 15.0
    retry_attempts: NonNegative = 3
    retry_max_delay_seconds: NonNegativeSeconds = 20.0
    # The push gateway serves pushers of these app ids only; other devices are rejected.
    gateway_app_ids: list[str] = Field(default_factory=lambda: ["zhiban.web"])
    # Devices served per gateway notification (a homeserver sends one); the rest are rejected.
    gateway_max_devices: Positive = 5


class VoiceSettings(_Section):
    enabled: bool = True
    model_dir: str = ""
    max_bytes: Positive = 20 * 1024 * 1024
    max_seconds: Positive = 600
    glossary: list[str] = Field(default_factory=list)
    # When set, only these people's voice messages are transcribed (else: the join policy).
    allowed_users: list[str] = Field(default_factory=list)
    # A learnt correction (misheard -> right) is used for later transcripts once this many
    # corrections confirmed it; an admin's correction puts it in force at once.
    memory_confirmations: int = Field(default=2, ge=1)
    # Whole recordings (`!转写`, a file in a meeting's thread): a meeting or a phone call.
    recording_max_bytes: Positive = 500 * 1024 * 1024
    recording_max_seconds: Positive = 2 * 3600


class TasksSettings(_Section):
    """Supervised tasks (督办) and reminders: when to remind, escalate and nag."""

    # Reminders before a task's deadline, in minutes (default: 1 day and 2 hours before).
    remind_before_minutes: list[NonNegative] = Field(default_factory=lambda: [24 * 60, 120])
    # Overdue: the lead is told at the deadline, the assigner this many minutes later,
    # then both again every `overdue_repeat_hours` until the task is resolved.
    escalate_after_minutes: int = Field(default=120, ge=0)
    overdue_repeat_hours: int = Field(default=24, ge=1)
    # The daily digest of overdue work sent to each assigner (local time in default_tz).
    digest_time: str = "09:00"
    # `!alarm` repeats this often until someone reacts ✅.
    alarm_repeat_minutes: int = Field(default=5, ge=1)
    # A task deadline given as a bare date (截止 明天, by friday) means this time that day:
    # the end of the office's working day, shown on the task card.
    end_of_day: str = "18:00"

    @field_validator("digest_time", "end_of_day")
    @classmethod
    def _clock(cls, value: str) -> str:
        try:
            hour, minute = (int(part) for part in value.split(":"))
        except ValueError:
            raise ValueError("must be HH:MM, e.g. 09:00") from None
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError("must be HH:MM, e.g. 09:00")
        return f"{hour:02d}:{minute:02d}"


class MeetingsSettings(_Section):
    """Meetings (会议): places with their capacity, reminders, sign-in window, default length."""

    # Place name → capacity (seats), e.g. {"三楼会议室" = 20, "301" = 12}. Empty: any place goes.
    places: dict[str, Positive] = Field(default_factory=dict)
    # Reminders before a meeting starts, in minutes (default: the day before and an hour before).
    remind_before_minutes: list[NonNegative] = Field(default_factory=lambda: [24 * 60, 60])
    # Sign-in (签到) window: the code is posted when it opens; `!checkin` works until it closes.
    checkin_opens_before_minutes: int = Field(default=15, ge=0)
    checkin_closes_after_minutes: int = Field(default=30, ge=1)
    # The organizer gets the list of who has not signed in this long after the start.
    missing_report_after_minutes: int = Field(default=10, ge=0)
    default_duration_minutes: int = Field(default=60, ge=5)


class ApprovalTemplateStep(_Section):
    """One step of a named approval flow: its people from `users` and/or from `roles`."""

    name: str
    mode: str = "any"  # "all" (会签) or "any" (或签)
    users: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    # The requester's own 拟稿 step: shown on the card, decided by nobody.
    drafter: bool = False
    # Binding: a ✅ in chat does not decide it; the approver confirms on the phone with a
    # passkey or a TOTP code (step-up, docs/security.md). 签发 of 发文 is binding by default.
    confirm: bool = False

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        if value not in ("all", "any"):
            raise ValueError("must be 'all' (会签) or 'any' (或签)")
        return value


def _default_approval_templates() -> dict[str, list[ApprovalTemplateStep]]:
    return {
        "发文": [
            ApprovalTemplateStep(name="拟稿", drafter=True),
            ApprovalTemplateStep(name="核稿", mode="any", roles=["duty_leader"]),
            ApprovalTemplateStep(name="会签", mode="all", roles=["leader"]),
            ApprovalTemplateStep(name="签发", mode="any", roles=["leader"]),
            ApprovalTemplateStep(name="归档", mode="any", roles=["duty_officer"]),
        ]
    }


class ApprovalsSettings(_Section):
    """Approvals (公文审批): reminders of a waiting step, 催办 rate limit, named flows."""

    # A step waiting this long reminds its approvers, up to remind_max times; then the
    # requester is told. 0 turns reminders off.
    remind_after_minutes: int = Field(default=240, ge=0)
    remind_max: int = Field(default=2, ge=0)
    nudge_interval_minutes: int = Field(default=10, ge=0)
    # A step waiting this long shows as stuck on the board (leaders and admins who see it).
    stuck_after_hours: int = Field(default=24, ge=1)
    # Template name → its steps, e.g. 发文: 拟稿 → 核稿 → 会签 → 签发 → 归档.
    templates: dict[str, list[ApprovalTemplateStep]] = Field(default_factory=_default_approval_templates)


class BoardSettings(_Section):
    """The board (一屏知全局) and the morning briefing DM'd to leaders and the duty leader."""

    briefing: bool = True
    # On working days (official holidays and 调休 from the calendar), at this time of the
    # office's zone (default_tz).
    briefing_time: str = "08:30"

    @field_validator("briefing_time")
    @classmethod
    def _clock(cls, value: str) -> str:
        return TasksSettings._clock(value)


class StepUpSettings(_Section):
    """Step-up confirmation of the decisions that bind (docs/security.md): a passkey or a TOTP code."""

    # 签发 in a 发文 approval needs the confirmation (besides every template step with confirm = true).
    sign_off: bool = True
    # How long the link the bot answers with may be used, and wrong answers before it is locked.
    minutes: Positive = 10
    max_failures: Positive = 5
    # Closing an incident, and declaring one of grade Ⅰ or Ⅱ, need the confirmation too.
    incident_close: bool = True
    incident_declare: bool = True
    # The WebAuthn relying party: empty takes the host of server.public_url (passkeys are
    # bound to it, so changing it later makes the registered passkeys unusable).
    rp_id: str = ""
    rp_name: str = "值班助手"


class ResponderRule(_Section):
    """Who joins an incident of these classes and grades (empty classes: every class)."""

    classes: list[str] = Field(default_factory=list)
    grades: list[Grade] = Field(default_factory=lambda: [1, 2, 3, 4])
    users: list[str] = Field(default_factory=list)


class EmergencySettings(_Section):
    """Report clocks, order nagging and responders; grades are 1 (Ⅰ, most severe) to 4 (Ⅳ)."""

    roster_tz: str = "Asia/Shanghai"
    # A shift set by date alone runs from this time for 24 hours (local time of roster_tz).
    shift_start: str = "08:30"
    first_report_minutes: dict[Grade, Positive] = Field(default_factory=lambda: {1: 30, 2: 30, 3: 60, 4: 60})
    update_report_minutes: dict[Grade, Positive] = Field(default_factory=lambda: {1: 120, 2: 120, 3: 240, 4: 240})
    remind_before_minutes: NonNegative = 10
    order_ack_minutes: dict[Grade, Positive] = Field(default_factory=lambda: {1: 5, 2: 10, 3: 15, 4: 30})
    # Nag a silent recipient this many times before telling the commander; stop after nag_max.
    nag_escalate_after: Positive = 2
    nag_max: Positive = 6
    responders: list[ResponderRule] = Field(default_factory=list)
    # Who receives `!alert` broadcasts: everyone configured with one of these roles.
    alert_roles: list[str] = Field(default_factory=lambda: ["leader", "duty_leader", "duty_officer", "staff"])


class AuditSettings(_Section):
    """The audit trail's anchors outside the database (docs/audit.md)."""

    # The key that seals each entry. Empty: read from key_file (made 0600 with a fresh random
    # key on first start). Best given as ZHIBAN_AUDIT__KEY. It must never be in the database.
    key: str = ""
    key_file: str = ""  # empty: data_dir/audit.key
    # Signed checkpoints of the chain head, one JSON line each. Empty: data_dir/audit-checkpoints.jsonl.
    checkpoint_file: str = ""
    # A room (its id, !…:server) that receives each checkpoint; empty: none is posted.
    room: str = ""
    checkpoint_every_hours: Positive = 24

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return checks.secret_key(value)

    @field_validator("room")
    @classmethod
    def _room(cls, value: str) -> str:
        if value and not (value.startswith("!") and ":" in value):
            raise ValueError("must be a room id such as !abc:office.example (an alias is not resolved)")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHIBAN_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path("data")
    default_lang: str = "zh"
    default_tz: str = "Asia/Shanghai"
    matrix: MatrixSettings = Field(default_factory=MatrixSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    emergency: EmergencySettings = Field(default_factory=EmergencySettings)
    tasks: TasksSettings = Field(default_factory=TasksSettings)
    meetings: MeetingsSettings = Field(default_factory=MeetingsSettings)
    approvals: ApprovalsSettings = Field(default_factory=ApprovalsSettings)
    board: BoardSettings = Field(default_factory=BoardSettings)
    stepup: StepUpSettings = Field(default_factory=StepUpSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
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
        if self.database.url and self.database.password:
            from sqlalchemy.engine import make_url

            url = make_url(self.database.url).set(password=self.database.password)
            return url.render_as_string(hide_password=False)
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
    from records.config_errors import describe, unknown_variables

    unknown = unknown_variables(Settings, os.environ)
    problems = list(unknown.values())
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems += describe(Settings, exc, file=file, environ=os.environ, skip=set(unknown))
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"the config has {len(problems)} problem(s):\n{lines}")
    return settings
