"""The production compose file and the CLI agree, and the CLI refuses bad config clearly."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from typer.testing import CliRunner

from zhiban.cli import app

ROOT = Path(__file__).resolve().parents[2]


def cli_commands() -> set[str]:
    group = typer.main.get_command(app)
    return set(group.commands)  # type: ignore[attr-defined]


ZHIBAN_SERVICES = ("bot", "server", "worker")
# One-shot services that run Zhiban's image and exit.
ZHIBAN_ONE_SHOTS = ("migrate", "bootstrap")


def parse(args: list[str]) -> Any:
    """Parse `zhiban <args>` as the CLI would, without running it: a wrong command, option or
    argument raises the CLI's usage error here."""
    command: Any = typer.main.get_command(app)
    while (commands := getattr(command, "commands", None)) is not None:  # a group: descend
        assert args and args[0] in commands, f"the CLI has no command `zhiban {' '.join(args)}`"
        command, args = commands[args[0]], args[1:]
    return command.make_context(command.name, list(args))


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return services


def test_compose_names_every_service_and_each_command_exists() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"synapse", "postgres", "redis", "migrate", "bot", "server", "worker"} <= set(services)
    assert {"synapse-init", "bootstrap", "caddy"} <= set(services)
    for name in (*ZHIBAN_SERVICES, *ZHIBAN_ONE_SHOTS):
        command = services[name]["command"]
        parse(command)
        assert command[0] in cli_commands(), f"compose runs `zhiban {command[0]}`, which the CLI lacks"
    for name, service in services.items():
        # A one-shot service exits when done; every long-running one says whether it is healthy.
        assert "healthcheck" in service or service.get("restart") == "no", f"{name} has no health check"
    assert {"zhiban-data", "postgres-data", "redis-data"} <= set(compose["volumes"])


def test_migrations_run_once_before_every_zhiban_process() -> None:
    services = compose_services()
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ZHIBAN_SERVICES:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name


def test_each_zhiban_process_checks_its_own_health() -> None:
    services = compose_services()
    for name in ZHIBAN_SERVICES:
        test = services[name]["healthcheck"]["test"]
        # Not `zhiban doctor`: it fails for reasons that are no fault of the process (the speech
        # model not yet assembled, the homeserver down for a worker that never talks to it).
        assert test[:4] == ["CMD", "zhiban", "health", name], f"{name} checks {test}"
        parse(test[2:])


def test_the_database_password_is_not_put_into_the_url_unescaped() -> None:
    environment = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-zhiban"]["environment"]
    assert "POSTGRES_PASSWORD" not in environment["ZHIBAN_DATABASE__URL"]
    assert "POSTGRES_PASSWORD" in environment["ZHIBAN_DATABASE__PASSWORD"]


def test_a_password_apart_from_the_url_is_quoted_into_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    from records.config import load_settings
    from records.db import Database

    password = "p@ss:w/rd%20?#x"
    monkeypatch.setenv("ZHIBAN_DATABASE__URL", "postgresql://zhiban@postgres:5432/zhiban")
    monkeypatch.setenv("ZHIBAN_DATABASE__PASSWORD", password)
    settings = load_settings(tmp_path / "absent.toml")
    url = make_url(Database(settings.database_url).url)
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "zhiban",
        password,
        "postgres",
        5432,
        "zhiban",
    )


def test_cli_has_the_documented_commands() -> None:
    assert {"up", "bot", "server", "worker", "init", "doctor", "db", "audit"} <= cli_commands()


def test_broken_config_file_is_explained_not_traced(tmp_path: Path) -> None:
    config = tmp_path / "zhiban.toml"
    config.write_text('default_tz = "Mars/Olympus"\n[matrix\nuser_id = 1\n')
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 2
    assert "not valid TOML" in result.output and "Traceback" not in result.output
    config.write_text('default_tz = "Mars/Olympus"\n[matrix]\nuser_idd = "@x:y"\n')
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 2
    assert "default_tz" in result.output and "matrix.user_idd" in result.output


def test_init_writes_fresh_secrets_and_vapid_keys(tmp_path: Path) -> None:
    import tomllib

    paths = [tmp_path / "a.toml", tmp_path / "b.toml"]
    for path in paths:
        result = CliRunner().invoke(
            app, ["init", "--config", str(path), "--bot-password", "pw", "--public-url", "https://zb.example"]
        )
        assert result.exit_code == 0, result.output
    first, second = (tomllib.loads(p.read_text()) for p in paths)
    assert first["server"]["secret_key"] != second["server"]["secret_key"]
    assert first["push"]["vapid_public_key"] != second["push"]["vapid_public_key"]
    assert oct(paths[0].stat().st_mode)[-3:] == "600"
    again = CliRunner().invoke(app, ["init", "--config", str(paths[0]), "--bot-password", "pw"])
    assert again.exit_code == 1 and "exists" in again.output


def test_audit_verify_reports_intact_and_broken(tmp_path: Path) -> None:
    from records.audit_seal import install
    from records.config import load_settings
    from zhiban import audit_setup

    config = tmp_path / "zhiban.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    assert CliRunner().invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    audit_setup.install(load_settings(config))  # as the bot does at start: the key file is made
    try:
        _write_verify_tamper_verify(tmp_path, config)
    finally:
        install(None)


def _write_verify_tamper_verify(tmp_path: Path, config: Path) -> None:
    import asyncio

    from sqlalchemy import update

    from records import audit
    from records.db import Database
    from records.models import AuditEntry

    async def write_then(tamper: bool) -> None:
        db = Database(f"sqlite:///{tmp_path / 'zhiban.db'}")
        async with db.transaction() as session:
            if tamper:
                await session.execute(update(AuditEntry).values(actor="@mallory:x"))
            else:
                await audit.record(session, actor="@a:x", action="approval.decide", subject="A1")
        await db.dispose()

    asyncio.run(write_then(False))
    ok = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert ok.exit_code == 0 and "intact" in ok.output
    asyncio.run(write_then(True))
    broken = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert broken.exit_code == 1 and "BROKEN" in broken.output


# -- the production install: hashes for every package, images pinned ---------------------------
DIGEST = re.compile(r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")
# Images without a public record of their digest, pinned to a release tag instead (see the note
# at the top of docker-compose.yml). Adding one here needs that reason.
TAG_ONLY = {"matrixdotorg/synapse"}


def _lock() -> dict[str, tuple[str, list[str]]]:
    """Package name → (pinned version, its sha256 hashes), from requirements.lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", line)
        if pin:
            current = canonicalize_name(pin.group(1))
            pins[current] = (pin.group(2), [])
        hashed = re.search(r"--hash=sha256:([0-9a-f]{64})", line)
        if hashed and current:
            pins[current][1].append(hashed.group(1))
    return pins


def _production_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # The image installs the runtime dependencies and the voice extra, nothing for development.
    return [Requirement(text) for text in [*project["dependencies"], *project["optional-dependencies"]["voice"]]]


def test_lock_pins_every_production_dependency_with_hashes() -> None:
    pins = _lock()
    assert pins, "requirements.lock has no pinned packages"
    for requirement in _production_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is in pyproject.toml but not in requirements.lock: run `make lock`"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject's {requirement}: run `make lock`"
        )
    for pinned, (version, hashes) in pins.items():
        assert hashes, f"{pinned}=={version} has no --hash in requirements.lock"
    # The build backend comes from the lock too, so `--no-build-isolation` fetches nothing.
    assert {"setuptools", "wheel"} <= set(pins)
    dev_only = {"pytest", "ruff", "mypy", "hypothesis", "jiwer", "matrix-synapse"}
    assert not dev_only & set(pins), "development packages do not belong in the production lock"


def test_dockerfile_installs_from_the_lock_only() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert len(installs) == 2, installs  # nothing else is fetched without a hash
    assert dockerfile.index("requirements.lock") < dockerfile.index("--no-deps")
    base = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert base and DIGEST.match(base.group(1)), f"the base image is not pinned by digest: {base}"


def test_compose_images_are_pinned_by_digest_or_to_a_release() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    built = {compose["x-zhiban"]["image"]}  # Zhiban's own image, built from the Dockerfile
    for name, service in compose["services"].items():
        image = service.get("image")
        if image is None or image in built:
            continue
        repository, _, tag = image.partition("@")[0].rpartition(":")
        if repository in TAG_ONLY:
            assert tag not in ("", "latest") and re.match(r"^v?\d+\.\d+\.\d+$", tag), f"{name}: {image}"
        else:
            assert DIGEST.match(image), f"{name} runs {image}, not pinned by digest"


def test_only_the_tls_proxy_publishes_ports() -> None:
    # The push page needs HTTPS (docs/deploy.md): Synapse and the push server are reached through
    # Caddy, on the compose network; nothing else is published, not even on loopback.
    services = compose_services()
    for name, service in services.items():
        if name != "caddy":
            assert not service.get("ports"), f"{name} publishes {service['ports']}"
    assert {str(port).split(":")[0] for port in services["caddy"]["ports"]} == {"80", "443"}


# -- comes up from nothing: Synapse's config, the bot's account, TLS in front -----------------
def _zhiban_service_names() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    image = compose["x-zhiban"]["image"]
    return [name for name, service in compose["services"].items() if service.get("image") == image]


def _interpolated(value: object) -> str:
    """A compose value with each ${VAR...} replaced as a filled-in .env would."""
    return re.sub(r"\$\{[^}]+\}", "filled-in", str(value))


def test_every_variable_a_zhiban_process_is_given_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from records.config import load_settings

    services = compose_services()
    names = _zhiban_service_names()
    assert set(names) >= {*ZHIBAN_SERVICES, *ZHIBAN_ONE_SHOTS}
    for name in names:
        environment = services[name]["environment"]
        for key in environment:
            monkeypatch.delenv(key, raising=False)
        zhiban = {k: _interpolated(v) for k, v in environment.items() if k.startswith("ZHIBAN_")}
        # Anything else must be read by something in the image; a stray name is a typo.
        assert set(environment) - set(zhiban) <= {"FORWARDED_ALLOW_IPS"}, f"{name}: {environment}"
        for key, value in zhiban.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("ZHIBAN_CONFIG", str(tmp_path / "absent.toml"))
        # Unknown ZHIBAN_* names are refused: this loads only if each is a real setting.
        settings = load_settings(None)
        assert settings.matrix.homeserver == "http://synapse:8008"
        for key in zhiban:
            monkeypatch.delenv(key)


def test_every_variable_compose_takes_from_env_is_in_the_guide() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    guide = (ROOT / "docs" / "deploy.md").read_text()
    wanted = set(re.findall(r"\$\{(\w+)", compose))
    assert {"POSTGRES_PASSWORD", "MATRIX_SERVER_NAME", "MATRIX_DOMAIN", "PUSH_DOMAIN"} <= wanted
    for name in wanted:
        assert f"{name}=" in guide, f"docker-compose.yml needs {name}, which docs/deploy.md does not set in .env"


def test_the_bot_starts_only_after_its_account_is_bootstrapped() -> None:
    services = compose_services()
    bootstrap = services["bootstrap"]
    assert bootstrap["restart"] == "no"
    parse(bootstrap["command"])
    assert bootstrap["depends_on"]["synapse"] == {"condition": "service_healthy"}
    assert bootstrap["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["bot"]["depends_on"]["bootstrap"] == {"condition": "service_completed_successfully"}
    assert services["synapse"]["depends_on"]["synapse-init"] == {"condition": "service_completed_successfully"}


def test_the_shared_secret_reaches_synapse_and_the_bootstrap_only() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    (secret,) = compose["secrets"]
    mounted = f"/run/secrets/{secret}"
    holders = {name for name, service in services.items() if secret in service.get("secrets", [])}
    assert holders == {"synapse", "bootstrap"}
    command = services["bootstrap"]["command"]
    assert command[command.index("--shared-secret-file") + 1] == mounted
    init = _synapse_init()
    assert init.SECRET_PATH == mounted
    # Synapse reads the generated config, then the init script's settings over it.
    assert services["synapse"]["command"][-2:] == ["--config-path", "/data/zhiban.yaml"]


def _synapse_init() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("synapse_init", ROOT / "deploy" / "synapse_init.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _caddy_sites() -> dict[str, list[tuple[str, str]]]:
    """Site address → its (path matcher, upstream) routes, from deploy/Caddyfile."""
    sites: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in (ROOT / "deploy" / "Caddyfile").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.endswith("{") and not raw.startswith(("\t", " ")):
            current = line[:-1].strip()
            sites[current] = []
        elif line.startswith("reverse_proxy") and current is not None:
            words = line.split()[1:]
            sites[current].append((words[0], words[1]) if len(words) == 2 else ("*", words[0]))
    return sites


def test_caddy_routes_reach_the_right_services_and_ports() -> None:
    services = compose_services()
    sites = _caddy_sites()
    assert set(sites) == {"{$MATRIX_DOMAIN}", "{$PUSH_DOMAIN}"}
    caddy_env = services["caddy"]["environment"]
    assert {"MATRIX_DOMAIN", "PUSH_DOMAIN"} <= set(caddy_env)
    synapse = f"synapse:{_synapse_init().LISTENER_PORT}"
    matrix = dict(sites["{$MATRIX_DOMAIN}"])
    assert matrix["/_matrix/*"] == synapse and matrix["/_synapse/client/*"] == synapse
    assert not any(path.startswith("/_synapse/admin") or path == "*" for path in matrix), "the admin API is public"
    server = services["server"]["command"]
    assert sites["{$PUSH_DOMAIN}"] == [("*", f"server:{server[server.index('--port') + 1]}")]
    assert services["caddy"]["depends_on"]["server"] == {"condition": "service_healthy"}


def test_synapse_reads_the_shared_secret_from_the_compose_secret(tmp_path: Path) -> None:
    """The generated config plus the init script's, loaded by Synapse itself."""
    import os
    import sys

    from synapse.config.homeserver import HomeServerConfig

    init = _synapse_init()
    secret = tmp_path / "secret"
    secret.write_text("the-shared-secret\n")
    config = tmp_path / "homeserver.yaml"
    environ = {
        **os.environ,
        "SYNAPSE_SERVER_NAME": "office.example",
        "SYNAPSE_REPORT_STATS": "no",
        "MATRIX_DOMAIN": "matrix.office.example",
        "SYNAPSE_CONFIG_DIR": str(tmp_path),
        "SYNAPSE_REGISTRATION_SHARED_SECRET_PATH": str(secret),
        "UID": str(os.getuid()),
        "GID": str(os.getgid()),
    }
    # What the image's `generate` mode runs (docker/start.py), with this interpreter.
    generate = [sys.executable, "-m", "synapse.app.homeserver", "--server-name", "office.example"]
    generate += ["--report-stats", "no", "--config-path", str(config), "--config-directory", str(tmp_path)]
    generate += ["--data-directory", str(tmp_path), "--generate-config", "--open-private-ports"]
    assert init.main(generate, environ) == 0
    assert init.main(generate, environ) == 0  # a second start keeps the generated config
    loaded = HomeServerConfig.load_config("synapse", ["-c", str(config), "-c", str(tmp_path / "zhiban.yaml")])
    assert loaded.registration.registration_shared_secret == "the-shared-secret"
    assert loaded.server.public_baseurl == "https://matrix.office.example/"
    assert loaded.registration.enable_registration is False
    (listener,) = loaded.server.listeners
    assert listener.port == init.LISTENER_PORT and listener.http_options.x_forwarded
