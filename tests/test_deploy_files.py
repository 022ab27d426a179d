"""Deployment files: the shape operators and the health check rely on, checked without Docker."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text()
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    pairs = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def unit_options() -> dict[str, dict[str, list[str]]]:
    """systemd unit as section -> key -> values (keys may repeat, so no configparser)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (DEPLOY / "boneload.service").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_services_and_volume(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"bot", "db"}
    assert "pgdata" in compose["volumes"]
    db = services["db"]
    assert db["image"] == "postgres:16"
    assert any(str(v).startswith("pgdata:") for v in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_compose_bot(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["build"]["context"] == ".."
    assert bot["build"]["dockerfile"] == "deploy/Dockerfile"
    assert bot["env_file"] == "../.env"
    assert bot["restart"] == "unless-stopped"
    url = bot["environment"]["DATABASE_URL"]
    db_env = compose["services"]["db"]["environment"]
    # No password in the file: both take it from .env, and compose refuses to start without it.
    required = re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", db_env["POSTGRES_PASSWORD"])
    assert required, db_env["POSTGRES_PASSWORD"]
    assert url == f"postgresql+asyncpg://boneload:{db_env['POSTGRES_PASSWORD']}@db:5432/boneload"
    assert db_env["POSTGRES_USER"] == "boneload"
    assert url.endswith("/" + db_env["POSTGRES_DB"])


def test_compose_writes_no_password() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for line in text.splitlines():
        if "PASSWORD" in line and not line.lstrip().startswith("#"):
            assert "${POSTGRES_PASSWORD:?" in line, line
    assert ":boneload@" not in text


def test_compose_database_url_passes_settings_validation(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = compose["services"]["bot"]["environment"]["DATABASE_URL"]
    url = re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", "Url-safe_pw-1", url)
    monkeypatch.setenv("DATABASE_URL", url)
    load_settings(None)


def test_dockerfile() -> None:
    instructions = dockerfile_instructions()
    by_keyword: dict[str, list[str]] = {}
    for keyword, args in instructions:
        by_keyword.setdefault(keyword, []).append(args)

    # Multi-stage: a build stage and the runtime stage, both from the one pinned base image.
    froms = by_keyword["FROM"]
    assert len(froms) == 2 and froms[0].endswith(" AS build"), froms
    assert all(f.startswith("${PYTHON_IMAGE}") for f in froms)
    (image_arg,) = by_keyword["ARG"]
    assert image_arg.startswith("PYTHON_IMAGE=python:3.11-slim")
    digest = image_arg.partition("@")[2]
    assert digest == "" or re.fullmatch(r"sha256:[0-9a-f]{64}", digest), image_arg
    # The runtime stage takes the built environment only, never a compiler or the lock's pip run.
    assert any(c.startswith("--from=build /opt/boneload") for c in by_keyword["COPY"])
    (cmd,) = by_keyword["CMD"]
    assert json.loads(cmd) == ["boneload", "run"]
    users = by_keyword["USER"]
    assert users[-1] not in ("root", "0", "0:0")
    assert users[-1] == "boneload"
    # USER must come before CMD, or the bot would still run as root.
    keywords = [k for k, _ in instructions]
    assert keywords.index("USER") < keywords.index("CMD")
    (healthcheck,) = by_keyword["HEALTHCHECK"]
    assert re.search(r"CMD \[\"boneload\", \"doctor\"\]", healthcheck)
    assert any("RULES_DIR=/app/rules" in env for env in by_keyword["ENV"])
    # Dependencies from the hash-checked lock file, then boneload without re-resolving.
    runs = by_keyword["RUN"]
    assert any("--require-hashes" in r and "-r requirements.lock" in r for r in runs), runs
    assert any("pip install --no-deps ." in r for r in runs), runs


def test_lock_file_pins_every_dependency_with_hashes() -> None:
    import tomllib

    lock = (ROOT / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock, flags=re.MULTILINE))
    names = {k.lower().replace("_", "-") for k in pins}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name and name.group(0).lower().replace("_", "-") in names, requirement
    # Every pinned package carries at least one hash (pip install --require-hashes).
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", lock, flags=re.MULTILINE)
    for block in blocks[1:]:
        assert "--hash=sha256:" in block, block.splitlines()[0]
    assert "tornado" not in names  # the unused [webhooks] extra is gone


def test_dockerfile_copies_existing_paths() -> None:
    for keyword, args in dockerfile_instructions():
        if keyword == "COPY" and not args.startswith("--from="):  # from a stage, not the context
            *sources, _dest = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"


def test_systemd_unit() -> None:
    unit = unit_options()
    service = unit["Service"]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartSec"] == ["5"]
    (exec_start,) = service["ExecStart"]
    assert exec_start.endswith("boneload run")
    assert exec_start.startswith("/opt/boneload/.venv/bin/")
    assert service["User"] == ["boneload"]
    assert service["EnvironmentFile"] == ["/etc/boneload/env"]
    assert service["WorkingDirectory"] == ["/opt/boneload"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert service["TimeoutStopSec"] == ["30"]
    assert service["NoNewPrivileges"] == ["true"]
    assert service["ProtectSystem"] == ["strict"]
    assert service["ReadWritePaths"] == ["/var/lib/boneload"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def env_example_entries() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE))


def test_env_example_documents_every_setting() -> None:
    documented = env_example_entries()
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in documented]
    assert not missing, f".env.example does not document: {missing}"
    compose_only = {"POSTGRES_PASSWORD"}  # read by deploy/compose.yaml, not by boneload
    unknown = sorted(
        set(documented) - {name.upper() for name in Settings.model_fields} - compose_only
    )
    assert not unknown, f".env.example documents unknown settings: {unknown}"


def test_env_example_token_is_commented_out() -> None:
    text = (ROOT / ".env.example").read_text()
    assert not re.search(r"^TELEGRAM_BOT_TOKEN=", text, flags=re.MULTILINE)


def test_env_example_values_are_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    # Examples of values with no default would change the outcome, so they are left out.
    examples_only = {"TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET", "INSTANCE_NAME"}
    entries = {k: v for k, v in env_example_entries().items() if k not in examples_only and v}
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in entries.items()))
    from_example = load_settings(str(env_file))
    defaults = load_settings(None)
    for name in entries:
        field = name.lower()
        assert getattr(from_example, field) == getattr(defaults, field), name
